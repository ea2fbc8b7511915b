package wechatyservice

// WithUploadAbove makes SendFile upload bytes above n instead of
// UploadThreshold, for benchmarks that compare both ways at one size.
func WithUploadAbove(n int) Option {
	return optionFunc(func(o *options) { o.uploadAbove = min(n, maxBase64) })
}
