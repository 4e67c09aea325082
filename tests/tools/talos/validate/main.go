// talos-validate checks machine configurations with Talos' own code (pkg/machinery of the release
// this module pins): every config is loaded by configloader (all documents; unknown fields and
// kinds refused, as on a node), validated in strict mode for each runtime mode asked, and each
// patch list is applied with configpatcher, the result compared with the one given as `expected`
// (the collection's own patcher). Batch in, batch out, so one process checks every test config:
//
//	stdin:  {"modes": ["metal"], "items": [{"id", "config"?, "base"?, "patches"?, "expected"?}]}
//	stdout: {"talos": "v1.13.9", "items": [{"id", "documents", "load_error", "modes", "patch"}]}
//
// A patch is {"type": "strategic"|"json6902", "patch": YAML/JSON text, "document": {kind, name}?}.
// Talos applies a JSON6902 patch only to a one-document config; the collection applies it to the
// document it names, so here Talos' JSON6902 runs on that document alone and the result goes back
// in its place.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	jsonpatch "github.com/evanphx/json-patch"
	"github.com/hashicorp/go-multierror"

	coreconfig "github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/config"
	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"github.com/siderolabs/talos/pkg/machinery/config/configpatcher"
	"github.com/siderolabs/talos/pkg/machinery/config/container"
	"github.com/siderolabs/talos/pkg/machinery/config/encoder"
	"github.com/siderolabs/talos/pkg/machinery/config/validation"
)

// mode is validation.RuntimeMode as Talos' machined defines it (internal/app/machined/pkg/runtime
// mode.go, not importable): only metal requires an install section, only container runs in one.
type mode string

func (m mode) String() string        { return string(m) }
func (m mode) RequiresInstall() bool { return m == "metal" }
func (m mode) InContainer() bool     { return m == "container" }
func knownMode(m string) bool        { return m == "metal" || m == "cloud" || m == "container" }

type document struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

type patch struct {
	Type     string    `json:"type"`
	Patch    string    `json:"patch"`
	Document *document `json:"document"`
}

type item struct {
	ID       string  `json:"id"`
	Config   *string `json:"config"`
	Base     *string `json:"base"`
	Patches  []patch `json:"patches"`
	Expected *string `json:"expected"`
}

type request struct {
	Modes []string `json:"modes"`
	Items []item   `json:"items"`
	// SkipUnregistered drops (and lists) documents whose kind this release does not know, for a
	// pre-release that lacks kinds the collection targets; everything else is still checked.
	SkipUnregistered bool `json:"skip_unregistered"`
}

var skipUnregistered bool

// load is configloader.NewFromBytes, or with skipUnregistered the same on the documents whose
// kind is registered (documents are split on `---` lines, as the collection writes them).
func load(text string, opts ...configloader.Opt) (coreconfig.Provider, []string, error) {
	cfg, err := configloader.NewFromBytes([]byte(text), opts...)
	if err == nil || !skipUnregistered || !strings.Contains(err.Error(), "not registered") {
		return cfg, nil, err
	}

	var kept, dropped []string

	for _, doc := range strings.Split("\n"+text, "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}

		if _, derr := configloader.NewFromBytes([]byte(doc), opts...); derr != nil && strings.Contains(derr.Error(), "not registered") {
			dropped = append(dropped, derr.Error())

			continue
		}

		kept = append(kept, doc)
	}

	if len(kept) == 0 {
		return nil, dropped, err
	}

	cfg, err = configloader.NewFromBytes([]byte(strings.Join(kept, "\n---\n")), opts...)

	return cfg, dropped, err
}

type modeResult struct {
	Warnings []string `json:"warnings"`
	Errors   []string `json:"errors"`
}

type patchResult struct {
	Error    string            `json:"error,omitempty"`
	Equal    bool              `json:"equal"`
	Order    []string          `json:"order"`
	Result   map[string]string `json:"result"`
	Expected map[string]string `json:"expected"`
}

type itemResult struct {
	ID        string                `json:"id"`
	Documents []string              `json:"documents,omitempty"`
	LoadError string                `json:"load_error,omitempty"`
	Skipped   []string              `json:"unregistered,omitempty"`
	Modes     map[string]modeResult `json:"modes,omitempty"`
	Patch     *patchResult          `json:"patch,omitempty"`
}

func docID(doc config.Document) string {
	id := doc.Kind() // "v1alpha1" for the legacy document
	if named, ok := doc.(config.NamedDocument); ok && named.Name() != "" {
		id += "/" + named.Name()
	}

	return id
}

func errorList(err error) []string {
	if err == nil {
		return []string{}
	}

	var out []string

	var multi *multierror.Error
	if errors.As(err, &multi) {
		for _, e := range multi.Errors {
			out = append(out, errorList(e)...)
		}

		return out
	}

	// v1alpha1.Config wraps its own multierror: "v1alpha1.Config: N errors occurred: ...".
	if inner := errors.Unwrap(err); inner != nil && errors.As(inner, &multi) {
		prefix := strings.TrimSuffix(err.Error(), inner.Error())
		for _, e := range errorList(inner) {
			out = append(out, prefix+e)
		}

		return out
	}

	return []string{err.Error()}
}

func canonical(docs []config.Document) (map[string]string, []string, error) {
	out := map[string]string{}
	order := []string{}

	for _, doc := range docs {
		b, err := encoder.NewEncoder(doc, encoder.WithComments(encoder.CommentsDisabled)).Encode()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", docID(doc), err)
		}

		id := docID(doc)
		out[id] = string(b)
		order = append(order, id)
	}

	return out, order, nil
}

func validate(text string, modes []string, res *itemResult) {
	cfg, skipped, err := load(text)
	res.Skipped = skipped

	if err != nil {
		res.LoadError = err.Error()

		return
	}

	for _, doc := range cfg.Documents() {
		res.Documents = append(res.Documents, docID(doc))
	}

	res.Modes = map[string]modeResult{}

	for _, m := range modes {
		warnings, err := cfg.Validate(mode(m), validation.WithLocal(), validation.WithStrict())
		if warnings == nil {
			warnings = []string{}
		}

		res.Modes[m] = modeResult{Warnings: warnings, Errors: errorList(err)}
	}
}

// json6902On applies a JSON6902 patch with Talos' JSON6902 to one document of cfg (the v1alpha1
// one unless target names another).
func json6902On(cfg coreconfig.Provider, p jsonpatch.Patch, target *document) (coreconfig.Provider, error) {
	want := "v1alpha1"
	if target != nil && target.Kind != "" && target.Kind != "v1alpha1" {
		want = target.Kind
		if target.Name != "" {
			want += "/" + target.Name
		}
	}

	docs := cfg.Clone().Documents()
	for i, doc := range docs {
		if docID(doc) != want {
			continue
		}

		b, err := encoder.NewEncoder(doc, encoder.WithComments(encoder.CommentsDisabled)).Encode()
		if err != nil {
			return nil, err
		}

		patched, err := configpatcher.JSON6902(b, p)
		if err != nil {
			return nil, err
		}

		one, err := configloader.NewFromBytes(patched)
		if err != nil {
			return nil, fmt.Errorf("%s after the JSON6902 patch: %w", want, err)
		}

		if len(one.Documents()) != 1 || docID(one.Documents()[0]) != want {
			return nil, fmt.Errorf("the JSON6902 patch turned %s into something else", want)
		}

		docs[i] = one.Documents()[0]

		return container.New(docs...)
	}

	return nil, fmt.Errorf("no %s document to patch", want)
}

func applyPatches(it item) (coreconfig.Provider, error) {
	cfg, _, err := load(*it.Base)
	if err != nil {
		return nil, fmt.Errorf("base: %w", err)
	}

	for i, p := range it.Patches {
		var loaded configpatcher.Patch

		if p.Type == "strategic" {
			// configpatcher.LoadPatch's first step, through load (unregistered kinds).
			var strategic coreconfig.Provider
			if strategic, _, err = load(p.Patch, configloader.WithAllowPatchDelete()); err == nil {
				loaded = configpatcher.NewStrategicMergePatch(strategic)
			}
		} else {
			loaded, err = configpatcher.LoadPatch([]byte(p.Patch))
		}

		if err != nil {
			return nil, fmt.Errorf("patches[%d]: %w", i, err)
		}

		switch lp := loaded.(type) {
		case jsonpatch.Patch:
			if p.Type != "json6902" {
				return nil, fmt.Errorf("patches[%d]: Talos reads it as JSON6902, the collection as %s", i, p.Type)
			}

			cfg, err = json6902On(cfg, lp, p.Document)
		case configpatcher.StrategicMergePatch:
			if p.Type != "strategic" {
				return nil, fmt.Errorf("patches[%d]: Talos reads it as a strategic merge patch, the collection as %s", i, p.Type)
			}

			out, perr := configpatcher.Apply(configpatcher.WithConfig(cfg), []configpatcher.Patch{lp})
			if perr != nil {
				return nil, fmt.Errorf("patches[%d]: %w", i, perr)
			}

			cfg, err = out.Config()
		default:
			return nil, fmt.Errorf("patches[%d]: unknown patch type %T", i, loaded)
		}

		if err != nil {
			return nil, fmt.Errorf("patches[%d]: %w", i, err)
		}
	}

	return cfg, nil
}

func crossCheck(it item) *patchResult {
	res := &patchResult{}

	cfg, err := applyPatches(it)
	if err != nil {
		res.Error = err.Error()

		return res
	}

	if res.Result, res.Order, err = canonical(cfg.Documents()); err != nil {
		res.Error = err.Error()

		return res
	}

	if it.Expected == nil {
		return res
	}

	expected, _, err := load(*it.Expected)
	if err != nil {
		res.Error = "expected: " + err.Error()

		return res
	}

	if res.Expected, _, err = canonical(expected.Documents()); err != nil {
		res.Error = "expected: " + err.Error()

		return res
	}

	res.Equal = len(res.Result) == len(res.Expected)
	for id, text := range res.Result {
		if res.Expected[id] != text {
			res.Equal = false
		}
	}

	return res
}

func version() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/siderolabs/talos/pkg/machinery" {
				return dep.Version
			}
		}
	}

	return "unknown"
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "version" {
		fmt.Println(version())

		return
	}

	var req request

	dec := json.NewDecoder(os.Stdin)
	dec.DisallowUnknownFields()

	if err := dec.Decode(&req); err != nil {
		fmt.Fprintf(os.Stderr, "talos-validate: cannot read the request on stdin: %v\n", err)
		os.Exit(2)
	}

	if len(req.Modes) == 0 {
		req.Modes = []string{"metal"}
	}

	for _, m := range req.Modes {
		if !knownMode(m) {
			fmt.Fprintf(os.Stderr, "talos-validate: %q is not a runtime mode (metal, cloud, container)\n", m)
			os.Exit(2)
		}
	}

	out := struct {
		Talos string       `json:"talos"`
		Items []itemResult `json:"items"`
	}{Talos: version(), Items: []itemResult{}}

	skipUnregistered = req.SkipUnregistered

	for _, it := range req.Items {
		res := itemResult{ID: it.ID}

		if it.Config != nil {
			validate(*it.Config, req.Modes, &res)
		}

		if it.Base != nil {
			res.Patch = crossCheck(it)
		}

		out.Items = append(out.Items, res)
	}

	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(out); err != nil {
		fmt.Fprintf(os.Stderr, "talos-validate: %v\n", err)
		os.Exit(1)
	}
}
