package desk

import "net/http"

// openAPI: GET /openapi.json. (filled in with the package split)
func (a *API) openAPI(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"openapi": "3.1.0"})
	return nil
}
