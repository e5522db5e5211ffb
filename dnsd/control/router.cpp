#include "dnsd/control/router.hpp"

namespace dnsd::control::http {

namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// "/a/b/" → {"a", "b", ""}: a trailing slash is a segment of its own, so
// "/metrics/" is not "/metrics".
std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> out;
    if (path.starts_with('/')) path.remove_prefix(1);
    for (;;) {
        const size_t slash = path.find('/');
        out.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) return out;
        path.remove_prefix(slash + 1);
    }
}

bool is_capture(std::string_view segment) {
    return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

const std::string* Params::find(std::string_view name) const {
    for (const auto& [key, value] : items_)
        if (key == name) return &value;
    return nullptr;
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '%') {
            if (i + 2 >= text.size()) return std::nullopt;
            const int high = hex_digit(text[i + 1]), low = hex_digit(text[i + 2]);
            if (high < 0 || low < 0) return std::nullopt;
            out += static_cast<char>(high * 16 + low);
            i += 2;
        } else {
            out += plus_is_space && c == '+' ? ' ' : c;
        }
    }
    return out;
}

std::optional<Params> parse_query(std::string_view query) {
    Params params;
    while (!query.empty()) {
        const size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (pair.empty()) continue;
        const size_t equals = pair.find('=');
        auto name = percent_decode(pair.substr(0, equals), true);
        auto value = percent_decode(equals == std::string_view::npos ? std::string_view{} : pair.substr(equals + 1), true);
        if (!name || !value) return std::nullopt;
        params.add(std::move(*name), std::move(*value));
    }
    return params;
}

void Router::add(std::string method, std::string_view pattern, RouteHandler handler) {
    Route route{std::move(method), {}, std::move(handler)};
    for (std::string_view segment : split_path(pattern)) route.segments.emplace_back(segment);
    routes_.push_back(std::move(route));
}

void Router::handle(Request& request, Respond respond) const {
    const std::vector<std::string_view> segments = split_path(request.path);
    std::string allow;
    for (const Route& route : routes_) {
        if (route.segments.size() != segments.size()) continue;
        Params captures;
        bool matches = true;
        for (size_t i = 0; i < segments.size() && matches; ++i) {
            if (is_capture(route.segments[i])) {
                auto value = percent_decode(segments[i], false);
                if (!value) return respond(Response::error(400, "malformed percent-encoding in the path"));
                matches = !value->empty();
                captures.add(route.segments[i].substr(1, route.segments[i].size() - 2), std::move(*value));
            } else {
                matches = route.segments[i] == segments[i];
            }
        }
        if (!matches) continue;
        if (route.method == request.method) return route.handler(request, captures, std::move(respond));
        if (!allow.empty()) allow += ", ";
        allow += route.method;
    }
    if (allow.empty()) return respond(Response::error(404, "no such resource: " + request.path));
    Response response = Response::error(405, request.method + " is not allowed here; allowed: " + allow);
    response.headers.push_back({"Allow", allow});
    respond(std::move(response));
}

}  // namespace dnsd::control::http
