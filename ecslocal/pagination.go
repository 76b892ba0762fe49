package ecslocal

import (
	"encoding/base64"
	"encoding/json"
)

// List operations page with maxResults (1-100) and an opaque nextToken. A token encodes
// the operation and the offset of the next item; a token from another operation, or one
// that does not decode, is rejected as ECS rejects a foreign token.

const maxPageSize = 100

type pageToken struct {
	Op     string `json:"o"`
	Offset int    `json:"i"`
}

// checkMaxResults validates maxResults: when given it must be 1-100.
func checkMaxResults(maxResults *int32) error {
	if maxResults != nil && (*maxResults < 1 || *maxResults > maxPageSize) {
		return invalidParam("maxResults must be between 1 and %d, got %d", maxPageSize, *maxResults)
	}
	return nil
}

// paginate returns the page of items that token and maxResults select (def items when
// maxResults is absent) and the token of the next page, or nil after the last page.
func paginate[T any](op string, items []T, token *string, maxResults *int32, def int) ([]T, *string, error) {
	if err := checkMaxResults(maxResults); err != nil {
		return nil, nil, err
	}
	limit := def
	if maxResults != nil {
		limit = int(*maxResults)
	}
	start := 0
	if token != nil && *token != "" {
		b, err := base64.RawURLEncoding.DecodeString(*token)
		var t pageToken
		if err == nil {
			err = json.Unmarshal(b, &t)
		}
		if err != nil || t.Op != op || t.Offset < 0 {
			return nil, nil, invalidParam("Invalid token")
		}
		start = min(t.Offset, len(items))
	}
	end := min(start+limit, len(items))
	page := items[start:end]
	if end >= len(items) {
		return page, nil, nil
	}
	b, _ := json.Marshal(pageToken{Op: op, Offset: end})
	next := base64.RawURLEncoding.EncodeToString(b)
	return page, &next, nil
}

// withNextToken adds nextToken to a list response when there is a next page; ECS omits
// the member on the last page.
func withNextToken(out map[string]any, next *string) map[string]any {
	if next != nil {
		out["nextToken"] = *next
	}
	return out
}
