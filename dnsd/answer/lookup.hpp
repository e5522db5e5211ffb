#pragma once
// Where a name lands in one zone (RFC 1034 §4.3.2 step 3, wildcards per
// RFC 4592): the node that answers, the zone cut that refers, or nothing.
#include <cstdint>
#include <string_view>

#include "dnsd/zone/snapshot.hpp"

namespace dnsd::answer {

struct Lookup {
    enum class Kind : uint8_t { exact, wildcard, delegation, nxdomain };
    Kind kind = Kind::nxdomain;
    // exact: the node of the name; wildcard: the "*.<closest encloser>" node
    // that synthesises it; delegation: the zone cut; nxdomain: null.
    const zone::Node* node = nullptr;
};

// `name` is lower-case wire form at or below zone.apex. A zone cut above
// `name` always refers; a cut at `name` refers unless `qtype` is DS, which the
// parent side answers (RFC 4035 §3.1.4.1).
Lookup lookup(const zone::Zone& zone, std::string_view name, uint16_t qtype);

}  // namespace dnsd::answer
