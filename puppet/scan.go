package puppet

import "github.com/hawechaty/hawechaty/actions"

// ScanStatus is where a QR login stands (Event.Scan of an EventScan):
// actions.ScanStatus, the one scan status type of the pool.
type ScanStatus = actions.ScanStatus

// Scan statuses of an EventScan. A puppet that cannot tell leaves
// ScanUnknown; the pool reads an EventScan with a QR payload and no
// status as ScanWaiting.
const (
	ScanUnknown   = actions.ScanUnknown
	ScanWaiting   = actions.ScanWaiting
	ScanScanned   = actions.ScanScanned
	ScanConfirmed = actions.ScanConfirmed
	ScanTimeout   = actions.ScanTimeout
	ScanCanceled  = actions.ScanCanceled
)
