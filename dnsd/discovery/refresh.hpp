#pragma once
// What a discovery source holds and when it asks again (SPEC §11), as a pure
// function of the outcomes it is given and the clock the caller gives: no
// libuv, no c-ares, so tests drive it with answers and a clock of their own.
//
// - An answer with members replaces the set; the next refresh is due when its
//   TTL runs out, clamped to [refresh_min, refresh_max].
// - NXDOMAIN or NODATA (or an SRV answer none of whose targets has an
//   address) empties the set only when the answer before said so too: the
//   first such answer keeps the set and asks again after refresh_min; once
//   confirmed, the next refresh follows the negative TTL, clamped.
// - A failure (timeout, SERVFAIL, REFUSED, a malformed response) keeps the
//   set and retries sooner: after refresh_min, doubling with each failure in a
//   row, never past refresh_max. A failure between two empty answers breaks
//   their run: "two in a row" means two answers with nothing else between.
#include <algorithm>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "dnsd/core/address.hpp"

namespace dnsd::discovery {

// One member a source found: from an A/AAAA record, or an SRV record's
// target's address with that record's port, priority and weight.
struct Found {
    core::Address address;
    uint16_t port = 0;  // 0: from A/AAAA
    uint16_t priority = 0;
    uint16_t weight = 1;

    friend bool operator==(const Found&, const Found&) = default;
};

struct Outcome {
    enum class Kind : uint8_t { found, empty, failed };
    Kind kind = Kind::failed;
    std::vector<Found> members;  // found: distinct addresses, sorted (see sorted_members)
    uint32_t ttl_s = 0;          // found: the answer's least TTL; empty: its negative TTL, else 0
    size_t records = 0;          // records in the answer(s)
    std::string error;           // empty and failed: why ("NXDOMAIN", "SERVFAIL", "Timeout while ...")
};

// Sorts by address and keeps the first of each address: a resolver that
// rotates its records gives the same set each time, so an unchanged set is
// seen as unchanged.
inline std::vector<Found> sorted_members(std::vector<Found> found) {
    std::stable_sort(found.begin(), found.end(), [](const Found& a, const Found& b) {
        return std::tie(a.address.family, a.address.bytes) < std::tie(b.address.family, b.address.bytes);
    });
    auto same = [](const Found& a, const Found& b) { return a.address == b.address; };
    found.erase(std::unique(found.begin(), found.end(), same), found.end());
    return found;
}

class SourceRefresh {
public:
    // A source started at `now_ms`: its first refresh is due at once.
    SourceRefresh(uint32_t refresh_min_s, uint32_t refresh_max_s, uint64_t now_ms)
        : min_ms_(uint64_t{refresh_min_s} * 1000), max_ms_(uint64_t{refresh_max_s} * 1000), due_ms_(now_ms) {}

    // Takes a lookup's outcome at `now_ms`; true when the set changed.
    bool record(Outcome outcome, uint64_t now_ms) {
        last_refresh_ms_ = now_ms;
        ++refreshes_;
        records_ = outcome.records;
        error_ = std::move(outcome.error);
        switch (outcome.kind) {
            case Outcome::Kind::found: {
                failures_ = empties_ = 0;
                ttl_s_ = outcome.ttl_s;
                due_ms_ = now_ms + clamp(uint64_t{outcome.ttl_s} * 1000);
                const bool changed = members_ != outcome.members;
                members_ = std::move(outcome.members);
                return changed;
            }
            case Outcome::Kind::empty: {
                failures_ = 0;
                ttl_s_ = outcome.ttl_s;
                ++empties_;
                if (empties_ < 2 && !members_.empty()) {
                    due_ms_ = now_ms + min_ms_;
                    return false;
                }
                due_ms_ = now_ms + clamp(uint64_t{outcome.ttl_s} * 1000);
                const bool changed = !members_.empty();
                members_.clear();
                return changed;
            }
            case Outcome::Kind::failed: break;
        }
        empties_ = 0;
        ++failures_;
        ++failures_total_;
        const unsigned doublings = std::min(failures_ - 1, 20u);
        due_ms_ = now_ms + std::min(min_ms_ << doublings, max_ms_);
        return false;
    }

    const std::vector<Found>& members() const { return members_; }
    uint64_t due_ms() const { return due_ms_; }
    // How long from `now_ms` until the next refresh (0 when it is due).
    uint64_t wait_ms(uint64_t now_ms) const { return due_ms_ > now_ms ? due_ms_ - now_ms : 0; }

    // ---- For status, metrics and explain.
    uint64_t refreshes() const { return refreshes_; }
    uint64_t last_refresh_ms() const { return last_refresh_ms_; }  // meaningful once refreshes() > 0
    uint32_t ttl_s() const { return ttl_s_; }
    size_t records() const { return records_; }
    const std::string& error() const { return error_; }  // the last lookup's; empty after an answer with members
    unsigned failures() const { return failures_; }      // in a row
    uint64_t failures_total() const { return failures_total_; }
    unsigned empties() const { return empties_; }        // in a row

private:
    uint64_t clamp(uint64_t ms) const { return std::clamp(ms, min_ms_, max_ms_); }

    uint64_t min_ms_, max_ms_;
    uint64_t due_ms_;
    std::vector<Found> members_;
    uint64_t refreshes_ = 0;
    uint64_t last_refresh_ms_ = 0;
    uint32_t ttl_s_ = 0;
    size_t records_ = 0;
    std::string error_;
    unsigned failures_ = 0;
    uint64_t failures_total_ = 0;
    unsigned empties_ = 0;
};

}  // namespace dnsd::discovery
