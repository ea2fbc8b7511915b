package hawechaty_test

import (
	"context"
	"fmt"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/puppet/mock"
)

// A new account logs in by a QR code: the application reads the code from
// the pool's events, shows it, and sees the login go on.
func ExamplePool_Events() {
	world := mock.NewWorld()
	defer world.Close()
	bot, _ := world.AddBot("bot-1", mock.WithQRLogin("https://login.example/qr", 0))

	pool, _ := hawechaty.New()
	_ = pool.Add(context.Background(), bot)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := pool.Events(ctx)
	_ = pool.Start(ctx)
	defer pool.Stop(context.Background())

	for ev := range events {
		switch e := ev.(type) {
		case hawechaty.BotScan:
			fmt.Printf("%s: QR %s, %v\n", e.Bot, e.Status, e.QR) // the payload prints redacted
			if e.Status == actions.ScanWaiting {
				fmt.Println("  show the code for", e.QR.Reveal())
				_ = bot.ScanQR() // a phone scans it
			}
		case hawechaty.BotLogin:
			fmt.Printf("%s: logged in\n", e.Bot)
		case hawechaty.BotRecovered:
			fmt.Printf("%s: in rotation\n", e.Bot)
			cancel()
		}
	}
	// Output:
	// bot-1: QR waiting, [REDACTED]
	//   show the code for https://login.example/qr#1
	// bot-1: QR scanned, [REDACTED]
	// bot-1: QR confirmed, [REDACTED]
	// bot-1: logged in
	// bot-1: in rotation
}
