// Package signedurl makes and checks short-lived links: a path with an
// expiry (`expires`, Unix seconds) and an HMAC-SHA256 `signature` over the
// path and the expiry, so whoever holds the link may GET that path, and
// only that path, without credentials until it expires. It depends on the
// standard library only.
package signedurl

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"time"
)

// Errors of Verify.
var (
	ErrExpired = errors.New("the link has expired")
	ErrInvalid = errors.New("the link's signature is not valid")
)

func mac(key []byte, path string, expires int64) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(path + "\n" + strconv.FormatInt(expires, 10)))
	return m.Sum(nil)
}

// Sign returns path?expires=<unix>&signature=<base64url> valid until
// expires (rounded down to the second).
func Sign(key []byte, path string, expires time.Time) string {
	e := expires.Unix()
	return path + "?expires=" + strconv.FormatInt(e, 10) + "&signature=" + base64.RawURLEncoding.EncodeToString(mac(key, path, e))
}

// Verify checks the query q of a request for path: ErrInvalid when the
// signature is missing, malformed or not this path's and expiry's,
// ErrExpired when it was valid but now is past its expiry.
func Verify(key []byte, path string, q url.Values, now time.Time) error {
	e, err := strconv.ParseInt(q.Get("expires"), 10, 64)
	if err != nil {
		return ErrInvalid
	}
	sig, err := base64.RawURLEncoding.DecodeString(q.Get("signature"))
	if err != nil || !hmac.Equal(sig, mac(key, path, e)) {
		return ErrInvalid
	}
	if now.Unix() >= e {
		return ErrExpired
	}
	return nil
}
