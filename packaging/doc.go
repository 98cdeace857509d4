// Package packaging builds and tests Spare's Linux packages. It has no Go
// code to import: the .deb and .rpm are described by nfpm.yaml and built
// by build.sh (`make package`) from the files under linux/; README.md
// explains each choice and how Spare ships on Windows and macOS.
//
// The tests build the packages themselves, install the .deb into a clean
// Debian root made with mmdebstrap and run Spare there, and check the
// systemd unit, the desktop entries and the .rpm's contents.
package packaging
