package form

// Query decodes a raw query string with the same rules as a form body.
func Query(rawQuery string) Params { return New(ParseForm(rawQuery)) }

// QueryArray returns the values of an array parameter in any of the styles
// clients use: `k[]=a&k[]=b` (spec, Retrofit, qs "brackets"), `k[0]=a&k[1]=b`
// with or without escaped brackets (PHP http_build_query), and repeated
// `k=a&k=b`. Values that are objects are ignored rather than rejected.
func QueryArray(rawQuery, key string) []string {
	vals, _, err := Query(rawQuery).StringOrArray(key)
	if err != nil {
		return nil
	}
	return vals
}
