// cilium-policy-check runs Cilium's own parsing and rule sanitisation on CiliumNetworkPolicy and
// CiliumClusterwideNetworkPolicy objects, the code the agent runs before it accepts a policy:
//
//	cilium-policy-check [-cluster-name NAME] [FILE...]   (no FILE: stdin)
//
// Input: YAML (multi-document) or JSON; a List (items) is expanded. Output on stdout, one JSON
// document: {"ok": bool, "results": [{"source", "index", "kind", "namespace", "name", "rules",
// "errors": [...]}]}. Decoding is strict: a field Cilium's Go types do not know is an error (the
// agent would never see it). Exit 0 when every object parsed, 1 when one did not, 2 on bad input.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	ciliumv2 "github.com/cilium/cilium/pkg/k8s/apis/cilium.io/v2"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

type result struct {
	Source    string   `json:"source"`
	Index     int      `json:"index"`
	Kind      string   `json:"kind"`
	Namespace string   `json:"namespace,omitempty"`
	Name      string   `json:"name"`
	Rules     int      `json:"rules"`
	Errors    []string `json:"errors"`
}

type header struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Items      []json.RawMessage `json:"items"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
}

func strict(raw []byte, into any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(into)
}

func check(logger *slog.Logger, clusterName string, raw []byte, res *result) {
	var h header
	if err := json.Unmarshal(raw, &h); err != nil {
		res.Errors = append(res.Errors, err.Error())
		return
	}
	res.Kind, res.Name, res.Namespace = h.Kind, h.Metadata.Name, h.Metadata.Namespace
	if h.APIVersion != "cilium.io/v2" {
		res.Errors = append(res.Errors, fmt.Sprintf("apiVersion %q is not cilium.io/v2", h.APIVersion))
		return
	}
	var n int
	var err error
	switch h.Kind {
	case "CiliumNetworkPolicy":
		if h.Metadata.Namespace == "" {
			res.Errors = append(res.Errors, "a CiliumNetworkPolicy needs metadata.namespace (Cilium would parse it as clusterwide)")
		}
		var cnp ciliumv2.CiliumNetworkPolicy
		if err = strict(raw, &cnp); err == nil {
			rules, perr := cnp.Parse(logger, clusterName)
			n, err = len(rules), perr
		}
	case "CiliumClusterwideNetworkPolicy":
		if h.Metadata.Namespace != "" {
			res.Errors = append(res.Errors, "a CiliumClusterwideNetworkPolicy is not namespaced (metadata.namespace set)")
		}
		var ccnp ciliumv2.CiliumClusterwideNetworkPolicy
		if err = strict(raw, &ccnp); err == nil {
			rules, perr := ccnp.Parse(logger, clusterName)
			n, err = len(rules), perr
		}
	default:
		err = fmt.Errorf("kind %q is not a Cilium network policy", h.Kind)
	}
	res.Rules = n
	if err != nil {
		res.Errors = append(res.Errors, err.Error())
	}
}

func read(logger *slog.Logger, clusterName, source string, r io.Reader, out *[]result) error {
	dec := utilyaml.NewYAMLOrJSONDecoder(r, 4096)
	index := 0
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("%s: document %d: %w", source, index, err)
		}
		if len(bytes.TrimSpace(raw)) == 0 || string(raw) == "null" {
			continue
		}
		var h header
		if err := json.Unmarshal(raw, &h); err == nil && h.Items != nil {
			for _, item := range h.Items {
				res := result{Source: source, Index: index, Errors: []string{}}
				check(logger, clusterName, item, &res)
				*out = append(*out, res)
				index++
			}
			continue
		}
		res := result{Source: source, Index: index, Errors: []string{}}
		check(logger, clusterName, raw, &res)
		*out = append(*out, res)
		index++
	}
}

func main() {
	clusterName := flag.String("cluster-name", "default", "the cluster name Cilium's parser is given (cluster.name)")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	results := []result{}
	sources := flag.Args()
	if len(sources) == 0 {
		sources = []string{"-"}
	}
	for _, source := range sources {
		var r io.Reader = os.Stdin
		if source != "-" {
			f, err := os.Open(source)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			defer f.Close()
			r = f
		}
		if err := read(logger, *clusterName, source, r, &results); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	ok := true
	for _, res := range results {
		ok = ok && len(res.Errors) == 0
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(map[string]any{"ok": ok, "results": results}); err != nil {
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}
