#pragma once
// What respond() decided for one query, recorded as it went: `dnsd explain`
// runs the server's own answer path with a Trace and renders what it holds,
// so that it can never tell another story than the server. The server runs
// the same code with hooks that do nothing (NoTrace in respond.cpp), which
// the compiler removes: the hot path pays nothing for them.
//
// A Trace points into the view it was recorded against (zones, nodes, health,
// geo's region orders): it is read while that view is held.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dnsd/answer/pool.hpp"
#include "dnsd/wire/response.hpp"
#include "dnsd/zone/snapshot.hpp"

namespace dnsd::answer {

class Trace {
public:
    // One step of the walk from the question's name to the answer.
    struct Step {
        enum class Kind : uint8_t {
            zone,           // `name` is served by `zone`
            parent_for_ds,  // DS at the apex of a child zone: its parent `zone` answers
            no_zone,        // `name` is in no zone served
            exact,          // `name` is a node of the zone
            wildcard,       // `name` is synthesised from the wildcard `node` (RFC 4592)
            delegation,     // `name` is at or below the zone cut `node`: a referral
            nxdomain,       // `name` does not exist
            cname,          // `name` is an alias for `target`, which is followed
            cname_limit,    // `name` is an alias for `target`, past the last link followed
            cname_loop,     // `name` is an alias for `target`, already in the chain
            any,            // ANY at `name`: the one RRset of `type` answers (RFC 8482); 0: none
            nodata,         // `name` has no records of `type`
            rrset,          // `name` has `count` records of `type`, the first at `rotation`
            pool,           // `name` takes its addresses from pools[`index`]
        };
        Kind kind = Kind::zone;
        std::string name;  // wire form, lower case
        const zone::Zone* zone = nullptr;
        const zone::Node* node = nullptr;
        std::string target;  // wire form
        uint16_t type = 0;
        size_t count = 0;
        uint64_t rotation = 0;
        size_t index = 0;
    };

    // One pool's choice for one family, as select() made it.
    struct Pool {
        wire::Section section = wire::Section::answer;
        std::string owner;  // wire form
        const zone::Zone* zone = nullptr;
        const zone::Node* node = nullptr;
        core::Family family = core::Family::v4;
        Client client;
        uint64_t counter = 0;           // the rotation counter it was chosen at
        PoolChoice choice;
        std::vector<uint32_t> members;  // indices into the pool's members, in answer order
    };

    // One record as it went into the response; names in `rdata` uncompressed.
    struct Record {
        wire::Section section = wire::Section::answer;
        std::string owner;  // wire form
        uint16_t type = 0;
        uint32_t ttl = 0;
        std::vector<uint8_t> rdata;
    };

    std::vector<Step> steps;
    std::vector<Pool> pools;
    std::vector<Record> records;  // in section order; empty when the response was truncated
    uint16_t rcode = 0;
    bool authoritative = false;
    bool truncated = false;
    uint8_t ecs_scope_prefix = 0;

    // ---- The hooks respond() calls.

    void zone_of(std::string_view name, const zone::Zone* zone, bool parent_for_ds);
    void looked_up(std::string_view name, const zone::Node* node, Step::Kind kind);
    void cname(std::string_view name, std::string_view target, Step::Kind kind);
    void any(std::string_view name, uint16_t type);
    void nodata(std::string_view name, uint16_t type);
    void rrset(wire::Section section, std::string_view owner, const zone::RRset& rrset, uint32_t ttl,
               uint64_t rotation);
    void pool(wire::Section section, std::string_view owner, const PoolQuestion& question, const PoolChoice& choice,
              std::span<const uint32_t> members);
    void finish(uint16_t rcode, bool authoritative, bool truncated, uint8_t ecs_scope_prefix);

private:
    Step& step(Step::Kind kind, std::string_view name);
};

}  // namespace dnsd::answer
