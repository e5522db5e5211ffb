#pragma once
// Routes an HTTP request to its handler by method and path. A path no route
// matches gets 404; a path that matches with another method gets 405 and an
// Allow header listing the methods it has.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dnsd/control/http.hpp"

namespace dnsd::control::http {

// Name and value pairs: a query string's parameters, or a path's captures.
class Params {
public:
    void add(std::string name, std::string value) { items_.emplace_back(std::move(name), std::move(value)); }
    // The first value of `name`, or nullptr.
    const std::string* find(std::string_view name) const;
    const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

private:
    std::vector<std::pair<std::string, std::string>> items_;
};

// %XX decoded; with `plus_is_space` (query strings), '+' is a space. Nullopt
// for a malformed escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

// "a=1&b=two" → {a: 1, b: two}, decoded. Nullopt for a malformed escape.
std::optional<Params> parse_query(std::string_view query);

using RouteHandler = std::function<void(Request&, const Params& captures, Respond)>;

class Router {
public:
    // `pattern`: "/v1/zones/{zone}/pools" — a "{name}" segment captures one
    // decoded path segment under that name.
    void add(std::string method, std::string_view pattern, RouteHandler handler);
    void handle(Request& request, Respond respond) const;

private:
    struct Route {
        std::string method;
        std::vector<std::string> segments;
        RouteHandler handler;
    };
    std::vector<Route> routes_;
};

}  // namespace dnsd::control::http
