// Command textpng writes a PNG of one line of text to stdout, as input for
// the OCR workload in the playground and benchmarks.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/sparegpu/spare/workloads/testimage"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: textpng TEXT... > line.png")
		os.Exit(2)
	}
	b, err := testimage.TextPNG(strings.Join(os.Args[1:], " "))
	if err != nil {
		fmt.Fprintln(os.Stderr, "textpng:", err)
		os.Exit(1)
	}
	os.Stdout.Write(b)
}
