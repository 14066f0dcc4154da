package workable

import (
	"maps"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// queryValues encodes the query options opts (a pointer to an options
// struct, or nil) by their `url:"name"` field tags, like go-github's
// go-querystring: a string is sent when not empty, an int when positive, a
// *time.Time when set (RFC 3339 UTC, formatTime), a []string when not empty,
// comma-joined. Fields without a tag are not sent. It panics on a tagged
// field of another type, which is a programming error caught by the tests of
// every options type. The fields of an embedded struct are encoded as its
// own.
func queryValues(opts any) url.Values {
	q := url.Values{}
	v := reflect.ValueOf(opts)
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return q
		}
		v = v.Elem()
	}
	t := v.Type()
	for i := range t.NumField() {
		if f := t.Field(i); f.Anonymous && f.Type.Kind() == reflect.Struct {
			// Embedded options (ListOptions) add their own fields.
			maps.Copy(q, queryValues(v.Field(i).Interface()))
			continue
		}
		name := t.Field(i).Tag.Get("url")
		if name == "" {
			continue
		}
		switch f := v.Field(i).Interface().(type) {
		case string:
			if f != "" {
				q.Set(name, f)
			}
		case int:
			if f > 0 {
				q.Set(name, strconv.Itoa(f))
			}
		case *time.Time:
			if f != nil {
				q.Set(name, formatTime(*f))
			}
		case []string:
			if len(f) > 0 {
				q.Set(name, strings.Join(f, ","))
			}
		default:
			panic("workable: query option " + t.Name() + "." + t.Field(i).Name + " has a type queryValues cannot encode")
		}
	}
	return q
}
