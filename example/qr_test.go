package main

import (
	"image"
	"image/color"
	"strings"
	"testing"

	goqr "github.com/piglig/go-qr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scanText reads a QR code drawn by renderQR back as an image, 4 pixels a
// module, light modules white, and decodes it: what a phone's camera does
// with the terminal.
func scanText(t *testing.T, drawn string) string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(drawn, "\n"), "\n")
	require.NotEmpty(t, lines)
	width := len([]rune(lines[0]))
	const px = 4
	img := image.NewGray(image.Rect(0, 0, width*px, 2*len(lines)*px))
	for row, line := range lines {
		require.Len(t, []rune(line), width, "line %d", row)
		for x, r := range []rune(line) {
			top := r == '█' || r == '▀'
			bottom := r == '█' || r == '▄'
			for i, lit := range []bool{top, bottom} {
				c := color.Gray{}
				if lit {
					c = color.Gray{Y: 255}
				}
				for dy := range px {
					for dx := range px {
						img.SetGray(x*px+dx, (2*row+i)*px+dy, c)
					}
				}
			}
		}
	}
	text, err := goqr.Decode(img)
	require.NoError(t, err)
	return text
}

func TestRenderQRScans(t *testing.T) {
	for _, payload := range []string{
		"hawechaty-mock://login/bot-1#1",
		"https://login.weixin.qq.com/l/IYWL3kRDxA==",
		strings.Repeat("a long login URL ", 20),
	} {
		drawn, err := renderQR(payload, false)
		require.NoError(t, err)
		assert.Equal(t, payload, scanText(t, drawn))
		assert.True(t, strings.HasPrefix(drawn, strings.Repeat("█", 10)), "the quiet zone is light")

		colored, err := renderQR(payload, true)
		require.NoError(t, err)
		plain := strings.NewReplacer("\x1b[97;40m", "", "\x1b[0m", "").Replace(colored)
		assert.Equal(t, drawn, plain, "the colours change no module")
		assert.Equal(t, strings.Count(drawn, "\n"), strings.Count(colored, "\x1b[0m\n"), "every line sets and resets them")
	}
	_, err := renderQR(strings.Repeat("x", 5000), false)
	assert.ErrorContains(t, err, "QR code of 5000 bytes")
	assert.False(t, isTerminal(&strings.Builder{}))
}
