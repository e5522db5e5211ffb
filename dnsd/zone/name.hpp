#pragma once
// Domain names as written in zone files, turned into the lower-case wire form
// that the compiled model uses.
#include <optional>
#include <string>
#include <string_view>

namespace dnsd::zone {

// `text` in wire form, lower case. "@" is `origin`; a name not ending in "."
// is relative and gets `origin` (wire form) appended; "." is the root. A
// "*" label is allowed only as the whole leftmost label. On failure returns
// nullopt and sets `problem` to a message that says how to fix the name.
std::optional<std::string> to_wire(std::string_view text, std::string_view origin,
                                   std::string& problem);

// "www.demo.example." for "\3www\4demo\7example\0"; "." for the root.
std::string to_text(std::string_view wire);

// "Svc.Example.COM." → "svc.example.com": a zone's name as Zone::name spells
// it, from what a person or a request gave.
std::string zone_key(std::string_view name);

// Whether `wire` is `ancestor` or below it (both wire form, lower case).
bool is_at_or_below(std::string_view wire, std::string_view ancestor);

}  // namespace dnsd::zone
