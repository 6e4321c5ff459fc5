package httpapi

import (
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// OpenAPI returns the API's OpenAPI 3.1 document, made from [API.Docs]:
// every route of the desk's own, with its path and query parameters, its
// request and response bodies as JSON Schema, who may call it
// (x-access, and the bearer security requirement), and its error answers.
// GET /openapi.json serves it. Routes that listeners of
// topics.RoutingAlter add are not in it.
func (a *API) OpenAPI() map[string]any {
	paths := map[string]any{}
	errorBody := map[string]any{"content": map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeFor[ErrorJSON]())}}}
	for _, d := range a.Docs() {
		method, path, _ := strings.Cut(d.Pattern, " ")
		item, _ := paths[path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[path] = item
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range d.Query {
			params = append(params, map[string]any{"name": q, "in": "query", "schema": map[string]any{"type": "string"}})
		}
		ok := map[string]any{"description": http.StatusText(d.Status)}
		switch {
		case d.Response != nil:
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(d.Response))}}
		case d.Name == "document.download":
			ok["content"] = map[string]any{"application/octet-stream": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}
		case d.Name == "page.chat":
			ok["content"] = map[string]any{"text/html": map[string]any{"schema": map[string]any{"type": "string"}}}
		}
		responses := map[string]any{strconv.Itoa(d.Status): ok, "400": describe(errorBody, "invalid request")}
		if d.Access != Public {
			responses["401"] = describe(errorBody, "no bearer token, or one the desk does not know")
			responses["403"] = describe(errorBody, "the caller may not: "+d.Access.String()+" only")
		}
		if strings.Contains(path, "{") {
			responses["404"] = describe(errorBody, "not found")
		}
		op := map[string]any{
			"operationId": d.Name,
			"summary":     d.Summary,
			"description": "Who may call it: " + d.Access.String() + ".",
			"x-access":    d.Access.String(),
			"responses":   responses,
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if d.Access != Public {
			op["security"] = []any{map[string]any{"bearer": []any{}}}
		}
		if d.Request != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(d.Request))}}}
		}
		item[strings.ToLower(method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":   "fxbus desk",
			"version": "1",
			"description": "The reference service of fxbus. Errors are {\"error\": \"...\"}. " +
				"Listings are pages: {\"items\": [...], \"next\": \"<cursor>\"}; pass ?after=<cursor> for the next page, ?limit= for its size.",
		},
		"components": map[string]any{"securitySchemes": map[string]any{
			"bearer": map[string]any{"type": "http", "scheme": "bearer",
				"description": "The token of POST /visitors (a visitor), POST /operators/login (an operator) or POST /users/login (a user)."},
		}},
		"paths": paths,
	}
}

var pathParam = regexp.MustCompile(`\{([a-z]+)\}`)

func describe(body map[string]any, what string) map[string]any {
	out := map[string]any{"description": what}
	for k, v := range body {
		out[k] = v
	}
	return out
}

var timeType = reflect.TypeFor[time.Time]()

// schemaOf returns the JSON Schema of t as encoding/json encodes it.
func schemaOf(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		return map[string]any{"type": "string", "format": "date-time"}
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": schemaOf(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem())}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		props := map[string]any{}
		var required []any
		for f := range t.Fields() {
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			props[name] = schemaOf(f.Type)
			if !strings.Contains(opts, "omitempty") {
				required = append(required, name)
			}
		}
		s := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			s["required"] = required
		}
		return s
	}
	return map[string]any{}
}

// openAPI: GET /openapi.json.
func (a *API) openAPI(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, a.OpenAPI())
	return nil
}
