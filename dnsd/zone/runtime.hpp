#pragma once
// Members a pool gains at run time (SPEC §11), from a registration or a
// discovery source, joined to a compiled Zone without compiling it again: the
// derived Zone shares the compiled one's names (NameTree) and differs only in
// its pools, probe targets and the pools' rotation keys. A pool whose members
// come out the same keeps its rotation keys, so its rotation carries on.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dnsd/core/address.hpp"
#include "dnsd/zone/snapshot.hpp"

namespace dnsd::zone {

// One member as a source yields it; the fields mean what they mean in a zone file.
struct RuntimeMember {
    core::Address address;
    int32_t region = -1;  // index into the region names; -1: none
    uint32_t weight = 1;
    uint32_t priority = 0;
    MemberState state = MemberState::automatic;
    uint16_t port = 0;  // probe port override; 0: the check's

    friend bool operator==(const RuntimeMember&, const RuntimeMember&) = default;
};

// One zone's runtime members: pool name → source name ("registration",
// "dns:NAME") → members, each list sorted by address.
using RuntimeSources = std::map<std::string, std::vector<RuntimeMember>>;
using RuntimePools = std::map<std::string, RuntimeSources>;

// `base` (a compiled zone file) with `pools`' members added after each pool's
// own, source by source in name order. A member whose address the pool has
// already (from its file or an earlier source) is left out; so are the
// members of a pool `base` does not have. Costs the pools' members, not the
// zone's names. With nothing to add, the result has `base`'s pools and keys.
std::shared_ptr<const Zone> with_runtime_members(const std::shared_ptr<const Zone>& base, const RuntimePools& pools);

}  // namespace dnsd::zone
