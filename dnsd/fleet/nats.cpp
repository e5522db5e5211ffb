#include "dnsd/fleet/nats.hpp"

#include <algorithm>
#include <vector>

namespace dnsd::fleet::nats {

std::string error_text(std::string_view what, natsStatus status) {
    std::string text(what);
    text += ": ";
    text += natsStatus_GetText(status);
    const char* last = nats_GetLastError(nullptr);
    if (last != nullptr && *last != '\0' && std::string_view(last) != natsStatus_GetText(status)) {
        text += " (";
        text += last;
        text += ')';
    }
    return text;
}

Options make_options(const config::Fleet& fleet, std::string& error) {
    natsOptions* raw = nullptr;
    if (natsStatus s = natsOptions_Create(&raw); s != NATS_OK) {
        error = error_text("cannot set up the NATS client", s);
        return nullptr;
    }
    Options options(raw);
    std::vector<const char*> servers;
    for (const auto& url : fleet.nats) servers.push_back(url.c_str());
    natsStatus s = natsOptions_SetServers(raw, servers.data(), static_cast<int>(servers.size()));
    if (s == NATS_OK) s = natsOptions_SetNoRandomize(raw, false);
    if (s == NATS_OK) s = natsOptions_SetTimeout(raw, request_timeout_ms);
    // A server that goes silent (no RST: a partition) is noticed within
    // three missed pings.
    if (s == NATS_OK) s = natsOptions_SetPingInterval(raw, 1000);
    if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(raw, 3);
    if (s == NATS_OK && !fleet.token.empty()) s = natsOptions_SetToken(raw, fleet.token.c_str());
    if (s == NATS_OK && !fleet.creds.empty())
        s = natsOptions_SetUserCredentialsFromFiles(raw, fleet.creds.c_str(), nullptr);
    if (s != NATS_OK) {
        error = error_text("bad NATS settings", s);
        return nullptr;
    }
    return options;
}

JetStream jet_stream(natsConnection* connection, std::string& error) {
    jsOptions options;
    jsOptions_Init(&options);
    options.Wait = request_timeout_ms;
    jsCtx* raw = nullptr;
    if (natsStatus s = natsConnection_JetStream(&raw, connection, &options); s != NATS_OK) {
        error = error_text("cannot use JetStream", s);
        return nullptr;
    }
    return JetStream(raw);
}

KeyValue open_bucket(natsConnection* connection, jsCtx* js, Bucket bucket, std::string& error) {
    const std::string name(bucket_name(bucket));
    kvStore* raw = nullptr;
    natsStatus s = js_KeyValue(&raw, js, name.c_str());
    if (s == NATS_NOT_FOUND) {
        char** servers = nullptr;
        int count = 0;
        if (natsConnection_GetServers(connection, &servers, &count) == NATS_OK) {
            for (int i = 0; i < count; ++i) free(servers[i]);
            free(servers);
        }
        kvConfig config;
        kvConfig_Init(&config);
        config.Bucket = name.c_str();
        config.History = 1;
        config.StorageType = js_FileStorage;
        config.Replicas = std::clamp(count, 1, 3);
        s = js_CreateKeyValue(&raw, js, &config);
    }
    if (s != NATS_OK) {
        error = error_text("cannot open the key-value bucket " + name, s);
        return nullptr;
    }
    return KeyValue(raw);
}

}  // namespace dnsd::fleet::nats
