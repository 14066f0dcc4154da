package redisconn

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// NewClient builds a go-redis client from a REDIS_URL-style setting.
// The accepted forms are:
//
//	redis://[[user]:password@]host[:port][/db][?option=value…]  single node (redis.ParseURL; rediss:// for TLS)
//	host:port                                                    single node, no auth
//	host1:port1,host2:port2[,…]                                  Cluster, no auth
//	redis+cluster://[[user]:password@]host1:port1,host2:port2    Cluster (rediss+cluster:// for TLS)
//	redis+sentinel://[[user]:password@]host1:port1,host2:port2/mastername[/db][?sentinel_password=…]
//	                                                             Sentinel (rediss+sentinel:// for TLS)
//
// For Sentinel the user and password in the URL authenticate to the master
// and its replicas; sentinel_username and sentinel_password, when the
// sentinels themselves require auth, go in the query. A missing port means
// 6379 (26379 for sentinels). The client has ContextTimeoutEnabled set so
// that the short per-call timeouts of its users interrupt a slow server.
// Errors never repeat the URL, which may hold a password.
func NewClient(redisURL string) (redis.UniversalClient, error) {
	s := strings.TrimSpace(redisURL)
	if s == "" {
		return nil, errors.New("redis url: empty")
	}
	scheme, rest, hasScheme := strings.Cut(s, "://")
	if !hasScheme {
		addrs, err := parseAddrs(s, "6379")
		if err != nil {
			return nil, fmt.Errorf("redis url: %w", err)
		}
		return redis.NewUniversalClient(&redis.UniversalOptions{
			Addrs:                 addrs,
			IsClusterMode:         len(addrs) > 1,
			ContextTimeoutEnabled: true,
		}), nil
	}
	switch scheme {
	case "redis", "rediss":
		opt, err := redis.ParseURL(s)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // url.Error repeats the URL, password included
			}
			return nil, fmt.Errorf("redis url: %w", err)
		}
		opt.ContextTimeoutEnabled = true
		return redis.NewClient(opt), nil
	case "redis+cluster", "rediss+cluster", "redis+sentinel", "rediss+sentinel":
		opt, err := parseMultiHostURL(scheme, rest)
		if err != nil {
			return nil, fmt.Errorf("redis url: %w", err)
		}
		return redis.NewUniversalClient(opt), nil
	default:
		return nil, fmt.Errorf("redis url: unsupported scheme %q", scheme)
	}
}

// parseMultiHostURL parses the part after "scheme://" of a cluster or
// sentinel URL, which url.Parse refuses because of its several hosts.
func parseMultiHostURL(scheme, rest string) (*redis.UniversalOptions, error) {
	sentinel := strings.HasSuffix(scheme, "+sentinel")
	opt := &redis.UniversalOptions{ContextTimeoutEnabled: true}

	rest, rawQuery, _ := strings.Cut(rest, "?")
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		user, pass, _ := strings.Cut(rest[:at], ":")
		var err error
		if opt.Username, err = url.PathUnescape(user); err != nil {
			return nil, errors.New("invalid escape in user name")
		}
		if opt.Password, err = url.PathUnescape(pass); err != nil {
			return nil, errors.New("invalid escape in password")
		}
		rest = rest[at+1:]
	}
	hosts, path, _ := strings.Cut(rest, "/")
	defPort := "6379"
	if sentinel {
		defPort = "26379"
	}
	addrs, err := parseAddrs(hosts, defPort)
	if err != nil {
		return nil, err
	}
	opt.Addrs = addrs
	if strings.HasPrefix(scheme, "rediss") {
		host, _, _ := net.SplitHostPort(addrs[0])
		opt.TLSConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}

	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, errors.New("invalid query")
	}
	parts := strings.FieldsFunc(path, func(r rune) bool { return r == '/' })
	if !sentinel {
		if len(parts) > 0 {
			return nil, errors.New("a cluster URL takes no path (clusters have no databases)")
		}
		if len(query) > 0 {
			return nil, errors.New("a cluster URL takes no query options")
		}
		opt.IsClusterMode = true
		return opt, nil
	}

	switch len(parts) {
	case 1:
	case 2:
		db, err := strconv.Atoi(parts[1])
		if err != nil || db < 0 {
			return nil, fmt.Errorf("invalid database number %q", parts[1])
		}
		opt.DB = db
	default:
		return nil, errors.New("a sentinel URL needs the path /mastername[/db]")
	}
	opt.MasterName = parts[0]
	for k, v := range query {
		switch k {
		case "sentinel_username":
			opt.SentinelUsername = v[len(v)-1]
		case "sentinel_password":
			opt.SentinelPassword = v[len(v)-1]
		default:
			return nil, fmt.Errorf("unknown sentinel URL option %q", k)
		}
	}
	return opt, nil
}

// parseAddrs splits a comma-separated list of host[:port], adding defPort
// where the port is missing.
func parseAddrs(list, defPort string) ([]string, error) {
	var addrs []string
	for a := range strings.SplitSeq(list, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		host, port, err := net.SplitHostPort(a)
		if err != nil {
			host, port = strings.Trim(a, "[]"), defPort
		}
		if strings.ContainsAny(a, "@/?") {
			// Do not echo it: it may hold a misplaced password.
			return nil, errors.New("invalid address: unexpected '@', '/' or '?'")
		}
		if host == "" {
			return nil, fmt.Errorf("invalid address %q", a)
		}
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return nil, fmt.Errorf("invalid port in address %q", a)
		}
		addrs = append(addrs, net.JoinHostPort(host, port))
	}
	if len(addrs) == 0 {
		return nil, errors.New("no address")
	}
	return addrs, nil
}
