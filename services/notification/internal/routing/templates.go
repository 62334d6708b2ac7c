package routing

import (
	"bytes"
	"embed"
	"fmt"
	"strings"
	"text/template"
)

//go:embed templates/*.tmpl
var templateFiles embed.FS

// Languages a message can be written in.
const (
	Swedish = "sv"
	English = "en"
)

var funcs = template.FuncMap{"inc": func(i int) int { return i + 1 }}

var templates = map[string]*template.Template{
	Swedish: template.Must(template.New("sv").Funcs(funcs).Option("missingkey=zero").ParseFS(templateFiles, "templates/sv.tmpl")),
	English: template.Must(template.New("en").Funcs(funcs).Option("missingkey=zero").ParseFS(templateFiles, "templates/en.tmpl")),
}

// Render puts a message on topic into words in lang (Swedish when lang is
// unknown): a one-line title and a body. Each topic has the templates
// "<topic>.title" and "<topic>.body" in every language.
func Render(lang, topic string, data map[string]any) (title, body string, err error) {
	t, ok := templates[lang]
	if !ok {
		t = templates[Swedish]
	}
	var tb, bb bytes.Buffer
	if err := t.ExecuteTemplate(&tb, topic+".title", data); err != nil {
		return "", "", fmt.Errorf("render %s title (%s): %w", topic, lang, err)
	}
	if err := t.ExecuteTemplate(&bb, topic+".body", data); err != nil {
		return "", "", fmt.Errorf("render %s body (%s): %w", topic, lang, err)
	}
	return strings.TrimSpace(tb.String()), strings.TrimSpace(bb.String()), nil
}
