package app

import (
	"bytes"
	"fmt"
	"image"
	"image/png"

	"fyne.io/fyne/v2"
	"github.com/fyne-io/oksvg"
	"github.com/srwiley/rasterx"

	"github.com/sparegpu/spare/assets"
)

// trayIconPx is the tray icon's size in pixels: tray hosts draw 16–48 px
// icons and scale the given pixmap down.
const trayIconPx = 64

// trayResource is a state's tray icon as a PNG resource. The toolkit hands
// the tray icon's bytes to the tray as they are, and tray hosts read PNG
// (StatusNotifierItem pixmaps on Linux, ICO converted from PNG on
// Windows), not SVG: an SVG shows as an empty icon.
func trayResource(s assets.TrayState) (fyne.Resource, error) {
	name, svg := assets.TrayIcon(s)
	b, err := rasterise(svg, trayIconPx)
	if err != nil {
		return nil, fmt.Errorf("tray icon %s: %w", name, err)
	}
	return fyne.NewStaticResource("spare-"+string(s)+".png", b), nil
}

// rasterise draws an SVG into a px×px PNG with a transparent background.
func rasterise(svg []byte, px int) ([]byte, error) {
	icon, err := oksvg.ReadIconStream(bytes.NewReader(svg))
	if err != nil {
		return nil, err
	}
	icon.SetTarget(0, 0, float64(px), float64(px))
	img := image.NewNRGBA(image.Rect(0, 0, px, px))
	icon.Draw(rasterx.NewDasher(px, px, rasterx.NewScannerGV(px, px, img, img.Bounds())), 1)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
