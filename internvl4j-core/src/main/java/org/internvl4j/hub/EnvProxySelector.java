package org.internvl4j.hub;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.SocketAddress;
import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Picks a proxy the way curl and Python's requests do: {@code https_proxy}/{@code HTTPS_PROXY} for
 * https URLs, {@code http_proxy}/{@code HTTP_PROXY} for http URLs, none for hosts listed in
 * {@code no_proxy}/{@code NO_PROXY} (exact host, domain suffix, or {@code *}).
 */
public final class EnvProxySelector extends ProxySelector {

    private final InetSocketAddress httpsProxy;
    private final InetSocketAddress httpProxy;
    private final List<String> noProxy;

    EnvProxySelector(InetSocketAddress httpsProxy, InetSocketAddress httpProxy, List<String> noProxy) {
        this.httpsProxy = httpsProxy;
        this.httpProxy = httpProxy;
        this.noProxy = List.copyOf(noProxy);
    }

    public static EnvProxySelector fromEnvironment(Map<String, String> env) {
        InetSocketAddress https = parse(first(env, "https_proxy", "HTTPS_PROXY"), "HTTPS_PROXY");
        InetSocketAddress http = parse(first(env, "http_proxy", "HTTP_PROXY"), "HTTP_PROXY");
        String no = first(env, "no_proxy", "NO_PROXY");
        List<String> entries = no == null ? List.of()
                : java.util.Arrays.stream(no.split(","))
                        .map(s -> s.strip().toLowerCase(Locale.ROOT))
                        .filter(s -> !s.isEmpty())
                        .toList();
        return new EnvProxySelector(https, http, entries);
    }

    @Override
    public List<Proxy> select(URI uri) {
        String host = uri.getHost() == null ? "" : uri.getHost().toLowerCase(Locale.ROOT);
        InetSocketAddress proxy = "https".equalsIgnoreCase(uri.getScheme()) ? httpsProxy : httpProxy;
        if (proxy == null || bypass(host)) {
            return List.of(Proxy.NO_PROXY);
        }
        return List.of(new Proxy(Proxy.Type.HTTP, proxy));
    }

    boolean bypass(String host) {
        for (String entry : noProxy) {
            if (entry.equals("*")) {
                return true;
            }
            String e = entry;
            int colon = e.lastIndexOf(':');
            if (colon > 0 && !e.contains("]") && e.indexOf(':') == colon) {
                e = e.substring(0, colon); // "host:port" -> host; the port is not compared
            }
            if (e.startsWith("*.")) {
                e = e.substring(1);
            }
            if (e.startsWith(".")) {
                e = e.substring(1);
            }
            if (host.equals(e) || host.endsWith("." + e)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void connectFailed(URI uri, SocketAddress sa, IOException ioe) {
        // Nothing to fall back to: the error reaches the caller, who names the proxy.
    }

    /** A short description for error messages, e.g. "proxy 10.0.0.1:3128" or "no proxy". */
    public String describe(URI uri) {
        Proxy p = select(uri).getFirst();
        return p.type() == Proxy.Type.DIRECT ? "no proxy" : "proxy " + p.address();
    }

    private static String first(Map<String, String> env, String a, String b) {
        String v = env.get(a);
        if (v == null || v.isBlank()) {
            v = env.get(b);
        }
        return v == null || v.isBlank() ? null : v.strip();
    }

    private static InetSocketAddress parse(String value, String name) {
        if (value == null) {
            return null;
        }
        String v = value.contains("://") ? value : "http://" + value;
        URI u;
        try {
            u = URI.create(v);
        } catch (IllegalArgumentException e) {
            throw new HubException(HubException.Kind.INVALID_ID, name + "='" + value + "' is not a proxy URL: " + e.getMessage());
        }
        if (u.getHost() == null) {
            throw new HubException(HubException.Kind.INVALID_ID, name + "='" + value + "' has no host: expected http://host:port");
        }
        String scheme = u.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new HubException(HubException.Kind.INVALID_ID,
                    name + "='" + value + "': only HTTP proxies are supported (java.net.http has no SOCKS support)");
        }
        int port = u.getPort() > 0 ? u.getPort() : (scheme.equals("https") ? 443 : 80);
        return InetSocketAddress.createUnresolved(u.getHost(), port);
    }
}
