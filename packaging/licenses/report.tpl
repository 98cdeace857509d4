{{range .}}{{.Name}}	{{.LicenseName}}	{{.LicensePath}}
{{end}}
