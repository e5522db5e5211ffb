#pragma once
// Live reload (SPEC §6) on the control loop. Triggers: a change to a `*.json`
// in the zones directory (debounced), a change to the GeoIP database file or
// to the latency table file, SIGHUP, and request() (POST /v1/reload). Each reload reads the directory
// file by file on libuv's thread pool (ZoneFiles::rescan), reopens the GeoIP
// database if its file changed, and publishes the result through State from
// the control loop. One reload runs at a time; a trigger during one schedules
// exactly one more after it.
//
// Replaced zones are handed to Retired, which frees them on the thread pool
// once nothing else holds them, never on a worker.
#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dnsd/control/latency.hpp"
#include "dnsd/control/reload_status.hpp"
#include "dnsd/control/retired.hpp"
#include "dnsd/control/state.hpp"
#include "dnsd/control/zone_files.hpp"

namespace dnsd::control {

class Reloader {
public:
    using Done = std::function<void(const ReloadResult&)>;

    // `zones`: the directory as read at start-up (its snapshot is the one
    // `state` publishes). Starts watching and handling SIGHUP at once.
    // Zones a reload replaces go to `retired`.
    Reloader(uv_loop_t* loop, State& state, ZoneFiles zones, Retired& retired);
    Reloader(const Reloader&) = delete;
    Reloader& operator=(const Reloader&) = delete;
    ~Reloader();

    // Reloads as soon as no reload runs; `done` (may be empty) gets the
    // result of a reload that read the files after this call.
    void request(Done done);

    // Closes every handle (MainLoop::on_stop); the Reloader must outlive the
    // loop's run. A reload still running finishes on the thread pool and is
    // dropped, and so are pending `done`s.
    void stop();

    // Where a table file read again, and a new GeoIP database, go; null (the
    // default): nowhere. Set once, at start-up.
    void set_latency(LatencyFeed* feed) { latency_ = feed; }

private:
    enum Reason : unsigned { zones_changed = 1, geo_changed = 2, sighup = 4, requested = 8, table_changed = 16 };

    // A file (the GeoIP database, the latency table) as last read; any
    // difference means a new file.
    struct FileStamp {
        bool exists = false;
        uint64_t size = 0, inode = 0;
        int64_t mtime_ns = 0;
        friend bool operator==(const FileStamp&, const FileStamp&) = default;
    };

    struct Build;
    struct Watch {
        uv_fs_event_t handle;
        uv_timer_t debounce;
        Reloader* owner = nullptr;
        Reason reason = zones_changed;
        std::string name;  // the file that matters; empty: any `*.json`
        uint64_t first_event_ms = 0;  // of the burst the timer waits out
        bool waiting = false;
    };

    static std::string trigger_text(unsigned reasons);
    static FileStamp stat_file(const std::string& path);
    void watch(Watch& watch, const std::string& dir, Reason reason, std::string name);
    static void on_fs_event(uv_fs_event_t* handle, const char* filename, int events, int status);
    static void on_debounced(uv_timer_t* timer);
    static void on_signal(uv_signal_t* signal, int number);

    void trigger(Reason reason);
    void start_build();
    static void build(uv_work_t* work);
    static void after_build(uv_work_t* work, int status);
    void publish(Build& build);

    uv_loop_t* loop_;
    State& state_;
    Retired& retired_;
    ZoneFiles zones_;
    FileStamp geo_file_;
    FileStamp table_file_;
    LatencyFeed* latency_ = nullptr;

    Watch zones_watch_;
    Watch geo_watch_;
    Watch table_watch_;
    uv_signal_t hangup_;
    bool stopped_ = false;

    std::unique_ptr<Build> build_;  // the reload running; null: none
    unsigned pending_ = 0;          // reasons for the next reload; 0: none asked
    std::vector<Done> waiting_;     // for the next reload's result
    std::string table_problem_;  // the latency table as it is now: its first problem; empty: none
    std::string geo_problem_;  // why the GeoIP database file as it is now did not open; empty: it did
};

}  // namespace dnsd::control
