#include "dnsd/net/counters.hpp"

namespace dnsd::net {

size_t qtype_slot(uint16_t qtype) {
    for (size_t i = 0; i < counted_qtypes.size(); ++i)
        if (counted_qtypes[i] == qtype) return i;
    return other_qtype_slot;
}

size_t rcode_slot(uint8_t rcode) { return rcode < other_rcode_slot ? rcode : other_rcode_slot; }

namespace {

template <size_t N>
void add_array(std::array<uint64_t, N>& totals, const std::array<Counter, N>& counters) {
    for (size_t i = 0; i < N; ++i) totals[i] += counters[i].get();
}

}  // namespace

void add_to(CounterTotals& totals, const Counters& counters) {
    add_array(totals.queries, counters.queries);
    add_array(totals.answers, counters.answers);
    totals.truncated += counters.truncated.get();
    totals.dropped += counters.dropped.get();
    totals.tcp_accepted += counters.tcp_accepted.get();
    totals.tcp_refused += counters.tcp_refused.get();
    totals.tcp_idle_closed += counters.tcp_idle_closed.get();
    totals.tcp_client_refused += counters.tcp_client_refused.get();
    totals.tcp_evicted += counters.tcp_evicted.get();
    totals.rrl_dropped += counters.rrl_dropped.get();
    totals.rrl_slipped += counters.rrl_slipped.get();
}

}  // namespace dnsd::net
