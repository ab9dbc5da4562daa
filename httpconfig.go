package logging

import (
	"fmt"
	"net/netip"
	"path"
	"strings"
)

// httpConfig is what Middleware takes from the chain's configuration.
type httpConfig struct {
	trustedProxies []netip.Prefix // peers whose Forwarded/X-Forwarded-For is read
	events         bool           // 401/403 raise security events
	skipPaths      []string       // paths served without a record
	eventPaths     []string       // when set, the only paths whose 401/403 raise events
}

// maxTrustedProxies and maxSkipPaths bound the lists.
const (
	maxTrustedProxies = 256
	maxSkipPaths      = 256
)

// setTrustedProxies parses CIDRs or single addresses.
func (c *config) setTrustedProxies(list []string) error {
	var ps []netip.Prefix
	for _, s := range list {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return fmt.Errorf("%q is neither a CIDR nor an address", s)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		ps = append(ps, p.Masked())
	}
	if len(ps) > maxTrustedProxies {
		return fmt.Errorf("more than %d trusted proxies", maxTrustedProxies)
	}
	c.http.trustedProxies = ps
	return nil
}

// setPaths sets *dst to the paths of list (see parsePaths): the paths
// Middleware serves without a record (skipPaths), or the only ones whose
// 401/403 raise events (eventPaths).
func setPaths(dst *[]string, list []string) error {
	ps, err := parsePaths(list)
	if err != nil {
		return err
	}
	*dst = ps
	return nil
}

// parsePaths checks a list of paths for Middleware (see matchPath).
func parsePaths(list []string) ([]string, error) {
	var ps []string
	for _, s := range list {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !strings.HasPrefix(s, "/") {
			return nil, fmt.Errorf("%q is not a path (it must start with /)", s)
		}
		ps = append(ps, s)
	}
	if len(ps) > maxSkipPaths {
		return nil, fmt.Errorf("more than %d paths", maxSkipPaths)
	}
	return ps, nil
}

// pathIn reports whether the request path p is one of ps: equal to an
// entry, or under an entry that ends in "/" ("/admin/" holds
// "/admin/users").
func pathIn(ps []string, p string) bool {
	for _, e := range ps {
		if p == e || strings.HasSuffix(e, "/") && strings.HasPrefix(p, e) {
			return true
		}
	}
	return false
}

// cleanPath is p as a router that cleans paths serves it ("//a/./b" and
// "/x/../a/b" are "/a/b"), its trailing slash kept.
func cleanPath(p string) string {
	c := path.Clean("/" + p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// skipPath reports whether a request to p is served without a record: p
// is in ps both as sent and cleaned, so that a client cannot have another
// handler served unlogged by spelling its path into a skipped one
// ("/healthz/../admin", "/static/../admin").
func skipPath(ps []string, p string) bool {
	return len(ps) > 0 && pathIn(ps, p) && pathIn(ps, cleanPath(p))
}

// eventPath reports whether a 401/403 to p raises an event: no paths set,
// or p is in ps as sent or cleaned, so that a client cannot step around an
// entry by spelling the path another way ("//admin/./users").
func eventPath(ps []string, p string) bool {
	return len(ps) == 0 || pathIn(ps, p) || pathIn(ps, cleanPath(p))
}

// WithTrustedProxies names the reverse proxies whose Forwarded and
// X-Forwarded-For headers say who the client is
// (CODOMYRMEX_LOG_TRUSTED_PROXIES, comma-separated CIDRs or addresses);
// see ClientIP. None by default: a header a client can forge is never read.
func WithTrustedProxies(cidrs ...string) Option {
	return option("WithTrustedProxies", bySetup, func(c *config) error {
		return optErr("WithTrustedProxies", strings.Join(cidrs, ","), c.setTrustedProxies(cidrs))
	})
}

// WithHTTPEvents turns Middleware's automatic 401/403 security events on
// (the default) or off (CODOMYRMEX_LOG_HTTP_EVENTS), for a service that
// raises its own, with the user, or whose test endpoints answer 401 on
// purpose.
func WithHTTPEvents(on bool) Option {
	return option("WithHTTPEvents", bySetup, func(c *config) error { c.http.events = on; return nil })
}

// WithHTTPSkipPaths names paths that Middleware serves without an access
// record or event (CODOMYRMEX_LOG_HTTP_SKIP_PATHS=/healthz,/metrics):
// health checks and scrapes that would drown the access log. A path that
// ends in "/" names every path under it ("/static/"). A request is skipped
// only when its path matches both as sent and cleaned (path.Clean), so
// that "/healthz/../admin" is logged.
func WithHTTPSkipPaths(paths ...string) Option {
	return option("WithHTTPSkipPaths", bySetup, func(c *config) error {
		return optErr("WithHTTPSkipPaths", strings.Join(paths, ","), setPaths(&c.http.skipPaths, paths))
	})
}

// WithHTTPEventPaths limits Middleware's automatic 401/403 security events
// to the given paths (CODOMYRMEX_LOG_HTTP_EVENT_PATHS=/login,/admin/):
// a path equal to an entry, or under an entry that ends in "/"
// ("/admin/" holds "/admin/users"), as sent or cleaned ("//admin/./users"
// and "/x/../admin/users" are under "/admin/"). Unset (the default), every
// path raises them; WithHTTPEvents(false) turns them off everywhere. For a
// service whose test endpoints answer 401 on purpose, or whose other paths
// raise their own events.
func WithHTTPEventPaths(paths ...string) Option {
	return option("WithHTTPEventPaths", bySetup, func(c *config) error {
		return optErr("WithHTTPEventPaths", strings.Join(paths, ","), setPaths(&c.http.eventPaths, paths))
	})
}
