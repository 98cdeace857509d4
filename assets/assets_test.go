package assets

import (
	"encoding/xml"
	"testing"
)

func TestIconsAreSVG(t *testing.T) {
	icons := map[string][]byte{}
	for _, s := range States {
		n, b := TrayIcon(s)
		icons[n] = b
	}
	n, b := AppIcon()
	icons[n] = b
	if len(icons) != len(States)+1 {
		t.Fatalf("%d distinct icons, want %d", len(icons), len(States)+1)
	}
	for name, b := range icons {
		var doc struct {
			XMLName xml.Name
			Width   string `xml:"width,attr"`
		}
		if err := xml.Unmarshal(b, &doc); err != nil || doc.XMLName.Local != "svg" || doc.Width == "" {
			t.Errorf("%s: not an SVG with a size: %v %+v", name, err, doc)
		}
	}
}
