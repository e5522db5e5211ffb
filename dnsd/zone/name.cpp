#include "dnsd/zone/name.hpp"

#include <algorithm>

#include <cctype>

#include "dnsd/wire/name.hpp"

namespace dnsd::zone {

namespace {

bool allowed(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '/';
}

std::string printable(std::string_view text) {
    constexpr size_t shown = 40;
    if (text.size() <= shown) return "\"" + std::string(text) + "\"";
    return "\"" + std::string(text.substr(0, shown)) + "...\"";
}

}  // namespace

std::optional<std::string> to_wire(std::string_view text, std::string_view origin,
                                   std::string& problem) {
    if (text.empty()) {
        problem = "empty name; write \"@\" for the zone apex";
        return std::nullopt;
    }
    if (text == "@") return std::string(origin);
    if (text == ".") return std::string(1, '\0');

    bool absolute = text.back() == '.';
    std::string_view labels = absolute ? text.substr(0, text.size() - 1) : text;
    std::string wire;
    size_t start = 0;
    bool first = true;
    while (true) {
        size_t dot = labels.find('.', start);
        std::string_view label = labels.substr(start, dot == std::string_view::npos ? labels.npos : dot - start);
        if (label.empty()) {
            problem = "empty label in name " + printable(text) + "; remove the extra \".\"";
            return std::nullopt;
        }
        if (label.size() > wire::max_label_size) {
            problem = "label " + printable(label) + " is " + std::to_string(label.size()) +
                      " octets; a label holds at most 63";
            return std::nullopt;
        }
        if (label.find('*') != std::string_view::npos && (label != "*" || !first)) {
            problem = "\"*\" in " + printable(text) +
                      " is allowed only as the whole leftmost label, as in \"*.cdn\"";
            return std::nullopt;
        }
        for (char c : label) {
            if (c == '*' || allowed(c)) continue;
            problem = "character '" + std::string(1, c) + "' in name " + printable(text) +
                      " is not allowed; use letters, digits, '-', '_' and '/'";
            return std::nullopt;
        }
        wire.push_back(static_cast<char>(label.size()));
        for (char c : label) wire.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        first = false;
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    if (absolute)
        wire.push_back('\0');
    else
        wire.append(origin);
    if (wire.size() > wire::max_name_size) {
        problem = "name " + printable(text) + " is " + std::to_string(wire.size()) +
                  " octets in wire form; a name holds at most 255";
        return std::nullopt;
    }
    return wire;
}

std::string to_text(std::string_view wire) {
    if (wire.empty() || wire[0] == '\0') return ".";
    std::string text;
    size_t at = 0;
    while (at < wire.size() && wire[at] != '\0') {
        size_t len = static_cast<uint8_t>(wire[at]);
        text.append(wire.substr(at + 1, len));
        text.push_back('.');
        at += 1 + len;
    }
    return text;
}

bool is_at_or_below(std::string_view wire, std::string_view ancestor) {
    for (std::string_view rest = wire;; rest = wire::parent(rest)) {
        if (rest == ancestor) return true;
        if (rest.size() <= 1) return false;
    }
}

std::string zone_key(std::string_view name) {
    if (name.size() > 1 && name.back() == '.') name.remove_suffix(1);
    std::string out(name);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
    return out;
}

}  // namespace dnsd::zone
