package logging

import (
	"fmt"
	"net/netip"
	"strings"
)

// httpConfig is what Middleware takes from the chain's configuration.
type httpConfig struct {
	trustedProxies []netip.Prefix // peers whose Forwarded/X-Forwarded-For is read
	events         bool           // 401/403 raise security events
	skipPaths      []string       // paths served without a record
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

// setSkipPaths sets the paths Middleware serves without a record.
func (c *config) setSkipPaths(list []string) error {
	var ps []string
	for _, s := range list {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !strings.HasPrefix(s, "/") {
			return fmt.Errorf("%q is not a path (it must start with /)", s)
		}
		ps = append(ps, s)
	}
	if len(ps) > maxSkipPaths {
		return fmt.Errorf("more than %d paths", maxSkipPaths)
	}
	c.http.skipPaths = ps
	return nil
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
// health checks and scrapes that would drown the access log.
func WithHTTPSkipPaths(paths ...string) Option {
	return option("WithHTTPSkipPaths", bySetup, func(c *config) error {
		return optErr("WithHTTPSkipPaths", strings.Join(paths, ","), c.setSkipPaths(paths))
	})
}
