#include "dnsd/control/reload.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "dnsd/control/settings.hpp"
#include "dnsd/core/background.hpp"
#include "dnsd/core/log.hpp"

namespace dnsd::control {

namespace {

using SystemClock = std::chrono::system_clock;
using SteadyClock = std::chrono::steady_clock;

// A burst of writes (an editor saving, a tool writing a temp file and
// renaming it) settles within this quiet time; a burst that never settles
// still reloads this long after it began.
constexpr uint64_t debounce_ms = 150;
constexpr uint64_t max_wait_ms = 1000;

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
    std::string out;
    for (const auto& part : parts) out += (out.empty() ? "" : std::string(separator)) + part;
    return out;
}

// `items`' text, the first listed_zones joined by ", ", then how many more.
template <class Item, class Text>
std::string listed(const std::vector<Item>& items, Text text) {
    std::vector<std::string> parts;
    for (size_t i = 0; i < items.size() && i < listed_zones; ++i) parts.push_back(text(items[i]));
    std::string out = join(parts, ", ");
    if (items.size() > listed_zones) out += fmt::format(" and {} more", items.size() - listed_zones);
    return out;
}

std::string change_text(const ZoneChange& change) {
    if (!change.serial_before) return fmt::format("{} added (serial {})", change.zone, *change.serial_after);
    if (!change.serial_after) return fmt::format("{} removed (was serial {})", change.zone, *change.serial_before);
    return fmt::format("{} serial {} -> {}", change.zone, *change.serial_before, *change.serial_after);
}

}  // namespace

std::string Reloader::trigger_text(unsigned reasons) {
    static constexpr std::pair<Reason, const char*> names[] = {
        {zones_changed, "zones directory"}, {geo_changed, "GeoIP database"}, {sighup, "SIGHUP"}, {requested, "request"},
        {table_changed, "latency table"}};
    std::vector<std::string> out;
    for (const auto& [bit, name] : names)
        if (reasons & bit) out.emplace_back(name);
    return join(out, ", ");
}

struct Reloader::Build {
    uv_work_t work{};
    Reloader* owner = nullptr;
    unsigned reasons = 0;
    std::vector<Done> waiting;
    SteadyClock::time_point started = SteadyClock::now();
    // Read by the thread pool; the control loop leaves them alone while it runs.
    const ZoneFiles* zones = nullptr;
    const config::Config* config = nullptr;
    FileStamp geo_before;
    // Written by the thread pool, read back on the loop in after_build.
    std::optional<Rescan> rescan;
    FileStamp geo_after;
    bool geo_opened = false;                // the file changed and was opened again
    std::shared_ptr<const geo::Geo> geo;  // when that worked
    std::string geo_error;                // when it did not
    FileStamp table_before;
    FileStamp table_after;
    bool table_read = false;              // the file changed and was read again
    std::vector<latency::TableRow> table;
    core::Diagnostics table_problems;
};

Reloader::Reloader(uv_loop_t* loop, State& state, ZoneFiles zones, Retired& retired)
    : loop_(loop), state_(state), retired_(retired), zones_(std::move(zones)), geo_file_(stat_file(state.config().geoip_path)) {
    state_.set_zone_status(zones_.status());
    watch(zones_watch_, state_.config().zones_dir, zones_changed, "");
    // The built-in default database may be missing (load_geo said so); then
    // so may its directory, and there is nothing to watch.
    const std::filesystem::path geoip(state_.config().geoip_path);
    std::error_code ignored;
    const std::filesystem::path geoip_dir = geoip.has_parent_path() ? geoip.parent_path() : ".";
    if (!geoip.empty() && (state_.config().geoip_named || std::filesystem::is_directory(geoip_dir, ignored)))
        watch(geo_watch_, geoip_dir.string(), geo_changed, geoip.filename().string());
    const std::filesystem::path table(state_.config().latency.table);
    if (!table.empty()) {
        table_file_ = stat_file(table.string());
        watch(table_watch_, table.has_parent_path() ? table.parent_path().string() : ".", table_changed,
              table.filename().string());
    }
    uv_signal_init(loop_, &hangup_);
    hangup_.data = this;
    uv_signal_start(&hangup_, on_signal, SIGHUP);
}

Reloader::~Reloader() = default;

Reloader::FileStamp Reloader::stat_file(const std::string& path) {
    struct stat st{};
    if (path.empty() || ::stat(path.c_str(), &st) != 0) return {};
    return {true, static_cast<uint64_t>(st.st_size), static_cast<uint64_t>(st.st_ino),
            static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

void Reloader::watch(Watch& watch, const std::string& dir, Reason reason, std::string name) {
    watch.owner = this;
    watch.reason = reason;
    watch.name = std::move(name);
    uv_fs_event_init(loop_, &watch.handle);
    uv_timer_init(loop_, &watch.debounce);
    watch.handle.data = &watch;
    watch.debounce.data = &watch;
    if (int rc = uv_fs_event_start(&watch.handle, on_fs_event, dir.c_str(), 0); rc != 0)
        spdlog::warn("cannot watch {} for changes ({}): reload with SIGHUP or POST /v1/reload", dir,
                     uv_strerror(rc));
}

void Reloader::on_fs_event(uv_fs_event_t* handle, const char* filename, int, int status) {
    Watch& watch = *static_cast<Watch*>(handle->data);
    if (status < 0) {
        spdlog::warn("watching for {} changes failed: {}", trigger_text(watch.reason), uv_strerror(status));
        return;
    }
    // Without a name (the kernel's queue overflowed) anything may have changed.
    if (filename != nullptr) {
        const std::string_view name(filename);
        const bool matters = watch.name.empty() ? name.ends_with(".json") && !name.starts_with('.')
                                                : name == watch.name;
        if (!matters) return;
    }
    const uint64_t now_ms = uv_now(watch.owner->loop_);
    if (!watch.waiting) {
        watch.waiting = true;
        watch.first_event_ms = now_ms;
    }
    const uint64_t deadline_ms = watch.first_event_ms + max_wait_ms;
    uv_timer_start(&watch.debounce, on_debounced, std::min(debounce_ms, deadline_ms - std::min(deadline_ms, now_ms)),
                   0);
}

void Reloader::on_debounced(uv_timer_t* timer) {
    Watch& watch = *static_cast<Watch*>(timer->data);
    watch.waiting = false;
    watch.owner->trigger(watch.reason);
}

void Reloader::on_signal(uv_signal_t* signal, int) { static_cast<Reloader*>(signal->data)->trigger(sighup); }

void Reloader::request(Done done) {
    if (stopped_) return;
    if (done) waiting_.push_back(std::move(done));
    trigger(requested);
}

void Reloader::trigger(Reason reason) {
    if (stopped_) return;
    pending_ |= reason;
    if (!build_) start_build();
}

void Reloader::start_build() {
    build_ = std::make_unique<Build>();
    build_->work.data = build_.get();
    build_->owner = this;
    build_->reasons = std::exchange(pending_, 0);
    build_->waiting = std::exchange(waiting_, {});
    build_->zones = &zones_;
    build_->config = &state_.config();
    build_->geo_before = geo_file_;
    build_->table_before = table_file_;
    if (int rc = uv_queue_work(loop_, &build_->work, build, after_build); rc != 0) {
        spdlog::error("cannot start a reload: {}", uv_strerror(rc));
        build_.reset();
    }
}

// On the thread pool.
void Reloader::build(uv_work_t* work) {
    core::run_in_background();
    Build& build = *static_cast<Build*>(work->data);
    const config::Config& config = *build.config;
    build.rescan = build.zones->rescan(config.zones_dir, config, SystemClock::now());
    build.geo_after = stat_file(config.geoip_path);
    if (build.geo_after != build.geo_before) {
        build.geo_opened = true;
        build.geo = load_geo(config, build.geo_error);
    }
    if (!config.latency.table.empty()) {
        build.table_after = stat_file(config.latency.table);
        if (build.table_after != build.table_before) {
            build.table_read = true;
            build.table = latency::load_table(config.latency.table, config.region_names(), build.table_problems);
        }
    }
}

void Reloader::after_build(uv_work_t* work, int status) {
    Reloader& self = *static_cast<Build*>(work->data)->owner;
    const std::unique_ptr<Build> build = std::move(self.build_);
    if (self.stopped_ || status != 0) return;
    self.publish(*build);
    if (self.pending_ != 0) self.start_build();
}

void Reloader::publish(Build& build) {
    Rescan& rescan = *build.rescan;
    ReloadResult result;
    result.trigger = trigger_text(build.reasons);
    result.changes = rescan.changes;

    const ZoneFiles previous = std::exchange(zones_, std::move(rescan.files));
    if (rescan.changed()) {
        std::unordered_set<const zone::Zone*> serving;
        for (const auto& zone : zones_.snapshot()->zones) serving.insert(zone.get());
        for (const auto& zone : previous.snapshot()->zones)
            if (!serving.contains(zone.get())) retired_.retire(zone);
        state_.set_snapshot(zones_.snapshot());
    }
    if (build.geo_opened) {
        geo_file_ = build.geo_after;
        geo_problem_ = build.geo_error;
        if (build.geo) {
            state_.set_geo(std::move(build.geo));
            result.geo_replaced = true;
            if (latency_) latency_->geo_changed();
        }
    }
    bool table_replaced = false;
    if (build.table_read) {
        table_file_ = build.table_after;
        table_problem_.clear();
        if (!build.table_problems.empty()) {
            table_problem_ = build.table_problems.front().to_string();
            if (build.table_problems.size() > 1)
                table_problem_ += " (and " + std::to_string(build.table_problems.size() - 1) + " more problems)";
            spdlog::error("{}", table_problem_);
        } else if (latency_) {
            latency_->set_table(std::move(build.table));
            table_replaced = true;
        }
    }

    for (const auto& problem : rescan.found) spdlog::error("{}", problem.to_string());
    if (!geo_problem_.empty() && build.geo_opened) spdlog::error("{}", geo_problem_);
    for (const auto& problem : zones_.problems()) result.errors.push_back(problem.to_string());
    if (!geo_problem_.empty()) result.errors.push_back(geo_problem_);
    if (!table_problem_.empty()) result.errors.push_back(table_problem_);
    result.finished_at = SystemClock::now();

    std::vector<std::string> parts;
    parts.push_back(result.changes.empty() ? "no zone changed" : listed(result.changes, change_text));
    if (result.geo_replaced) parts.push_back("new GeoIP database");
    if (!geo_problem_.empty()) parts.push_back("GeoIP database invalid, previous version kept");
    if (table_replaced) parts.push_back("new latency table");
    if (!table_problem_.empty()) parts.push_back("latency table invalid, previous version kept");
    std::vector<const ZoneFile*> invalid;
    for (const auto& file : zones_.files())
        if (!file.problems.empty() || file.conflict) invalid.push_back(&file);
    if (!invalid.empty())
        parts.push_back("invalid, previous version kept: " + listed(invalid, [](const ZoneFile* file) {
                            return file->zone && !file->conflict
                                       ? fmt::format("{} (serial {} serves)", file->path, file->zone->serial)
                                       : fmt::format("{} (nothing serves)", file->path);
                        }));
    const auto took_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - build.started).count();
    spdlog::log(result.ok() ? spdlog::level::info : spdlog::level::warn, "reload ({}) in {} ms: {}", result.trigger,
                took_ms, join(parts, "; "));

    state_.set_zone_status(zones_.status());
    state_.record_reload(result);
    for (const auto& done : build.waiting) done(result);
}

void Reloader::stop() {
    if (stopped_) return;
    stopped_ = true;
    for (Watch* watch : {&zones_watch_, &geo_watch_, &table_watch_}) {
        if (watch->owner == nullptr) continue;
        uv_close(reinterpret_cast<uv_handle_t*>(&watch->handle), nullptr);
        uv_close(reinterpret_cast<uv_handle_t*>(&watch->debounce), nullptr);
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&hangup_), nullptr);
    if (build_) uv_cancel(reinterpret_cast<uv_req_t*>(&build_->work));
    waiting_.clear();
}

}  // namespace dnsd::control
