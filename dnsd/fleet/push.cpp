#include "dnsd/fleet/push.hpp"

#include "dnsd/fleet/nats.hpp"

namespace dnsd::fleet {

namespace {

std::optional<uint64_t> store(const config::Fleet& fleet, const ZoneSet& zones, std::string& error) {
    nats::Options options = nats::make_options(fleet, error);
    if (!options) return std::nullopt;
    natsConnection* raw = nullptr;
    if (natsStatus s = natsConnection_Connect(&raw, options.get()); s != NATS_OK) {
        error = nats::error_text("cannot connect to NATS at " + fleet.nats.front(), s);
        return std::nullopt;
    }
    nats::Connection connection(raw);
    nats::JetStream js = nats::jet_stream(connection.get(), error);
    if (!js) return std::nullopt;
    nats::KeyValue bucket = nats::open_bucket(connection.get(), js.get(), Bucket::zones, error);
    if (!bucket) return std::nullopt;
    const std::string value = encode_zone_set(zones);
    uint64_t revision = 0;
    if (natsStatus s = kvStore_Put(&revision, bucket.get(), std::string(zones_key).c_str(), value.data(),
                                   static_cast<int>(value.size()));
        s != NATS_OK) {
        error = nats::error_text("cannot store the zones (" + std::to_string(value.size()) + " bytes)", s);
        return std::nullopt;
    }
    return revision;
}

}  // namespace

std::optional<uint64_t> push_zones(const config::Fleet& fleet, const ZoneSet& zones, std::string& error) {
    auto revision = store(fleet, zones, error);
    nats_CloseAndWait(nats::request_timeout_ms);
    return revision;
}

}  // namespace dnsd::fleet
