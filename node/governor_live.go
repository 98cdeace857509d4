package node

// SetSettings replaces the governor's rules while it runs (the owner
// changed them); the next decision uses them. Zero fields take defaults.
func (g *Governor) SetSettings(s Settings) error {
	// The change runs on Serve's goroutine, the only reader of
	// cfg.Settings, like every other input.
	return g.send(func(*Inputs) { g.cfg.Settings = s })
}
