// The benchmark workloads for CAF 0.17 (Debian libcaf-dev), written for
// Backstage's suite (bench/README in docs/performance.md). Same workloads,
// same units, same output as backstage-bench:
//
//   caf_bench WORKLOAD N [reps] [threads]
//   -> WORKLOAD impl=caf ns_per_op=X ops=N threads=T rep=R
//
// Each run sets up its actors once, does a warm-up of N/10, then `reps`
// timed runs on the same actors. `threads` is CAF's scheduler.max-threads
// (default 1). main is a scoped_actor on the main thread, as in CAF's own
// examples; it is where the sends of count, spawn, fanout and large come
// from.
#include <caf/all.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<const std::vector<uint8_t>>)

using namespace caf;
using clk = std::chrono::steady_clock;

using go_atom = atom_constant<atom("go")>;
using total_atom = atom_constant<atom("total")>;
using fin_atom = atom_constant<atom("fin")>;
using next_atom = atom_constant<atom("next")>;
using sync_atom = atom_constant<atom("sync")>;
using done_atom = atom_constant<atom("done")>;

namespace {

long rss_bytes() {
  std::ifstream f("/proc/self/statm");
  long size = 0, resident = 0;
  f >> size >> resident;
  return resident * 4096L;
}

// ---- pingpong --------------------------------------------------------------

behavior pong_fn(event_based_actor* self) {
  return {[=](int32_t x) { self->send(actor_cast<actor>(self->current_sender()), x); }};
}

struct ping_state {
  actor pong;
  actor waiter;
  int64_t left = 0;
  int64_t trips = 0;
};

behavior ping_fn(stateful_actor<ping_state>* self, actor pong) {
  self->state.pong = pong;
  return {
    [=](go_atom, int64_t rounds) {
      self->state.left = rounds;
      self->state.waiter = actor_cast<actor>(self->current_sender());
      self->send(self->state.pong, int32_t{1});
    },
    [=](int32_t x) {
      self->state.trips++;
      if (--self->state.left > 0)
        self->send(self->state.pong, x);
      else
        self->send(self->state.waiter, fin_atom::value, self->state.trips);
    }};
}

// ---- count, fanout ---------------------------------------------------------

struct counter_state {
  int64_t total = 0;
};

behavior counter_fn(stateful_actor<counter_state>* self) {
  return {[=](int32_t x) { self->state.total += x; },
          [=](int64_t x) { self->state.total += x; },
          [=](total_atom) -> int64_t { return self->state.total; }};
}

// ---- spawn -----------------------------------------------------------------

behavior worker_fn(event_based_actor* self, actor parent) {
  return {[=](int32_t x) {
    self->send(parent, x);
    self->quit();
  }};
}

// ---- ring ------------------------------------------------------------------

struct node_state {
  actor next;
  actor done;
};

behavior node_fn(stateful_actor<node_state>* self, actor done) {
  self->state.done = done;
  return {[=](next_atom, actor next) { self->state.next = next; },
          [=](int64_t hops) {
            if (hops == 0)
              self->send(self->state.done, fin_atom::value, int64_t{0});
            else
              self->send(self->state.next, hops - 1);
          }};
}

// ---- reply -----------------------------------------------------------------

behavior server_fn(event_based_actor*) {
  return {[=](int64_t x) -> int64_t { return x + 1; }};
}

struct asker_state {
  actor server;
  actor waiter;
  int64_t left = 0;
  int64_t trips = 0;
};

void ask(stateful_actor<asker_state>* self, int64_t v) {
  self->request(self->state.server, infinite, v).then([=](int64_t y) {
    self->state.trips++;
    if (--self->state.left > 0)
      ask(self, y);
    else
      self->send(self->state.waiter, fin_atom::value, self->state.trips);
  });
}

behavior asker_fn(stateful_actor<asker_state>* self, actor server) {
  self->state.server = server;
  return {[=](go_atom, int64_t rounds) {
    self->state.left = rounds;
    self->state.waiter = actor_cast<actor>(self->current_sender());
    ask(self, 0);
  }};
}

// ---- large -----------------------------------------------------------------

// 64 KiB per message: the sequence number and a 65528-byte buffer, copied
// into each message from the sender's buffer (as Backstage encodes its
// Chunk struct). CAF 0.17 needs no type registration for vector<uint8_t>.
constexpr size_t payload_bytes = 65536 - sizeof(int64_t);
constexpr int64_t large_burst = 64;

struct sink_state {
  int64_t received = 0;
  uint64_t check = 0;
};

behavior sink_fn(stateful_actor<sink_state>* self) {
  return {[=](int64_t seq, const std::vector<uint8_t>& buf) {
            self->state.received++;
            self->state.check += (uint64_t)seq + buf.front() + buf.back();
          },
          [=](total_atom) -> int64_t { return self->state.received; }};
}

// ---- large-blob --------------------------------------------------------------

// The payload made once and shared: each message carries a reference to an
// immutable buffer, as Backstage's blob does (a shared_ptr to const data;
// CAF copies only the pointer).
using shared_payload = std::shared_ptr<const std::vector<uint8_t>>;

behavior shared_sink_fn(stateful_actor<sink_state>* self) {
  return {[=](int64_t seq, const shared_payload& buf) {
            self->state.received++;
            self->state.check += (uint64_t)seq + buf->front() + buf->back();
          },
          [=](total_atom) -> int64_t { return self->state.received; }};
}

// ---- idle ------------------------------------------------------------------

behavior idle_fn(event_based_actor* self) {
  return {[=](int32_t) { return int32_t{0}; }};
}

// ---- multi-core workloads (x*), as in bench/backstage.c --------------------
// Run with 2 scheduler threads by bench/run.sh. CAF places actors itself
// (work stealing), so there is no shard placement to mirror; the workloads
// are otherwise the same: same actors, windows, tokens, work unit.

// The work unit of the *-work workloads: BENCH_WORK_ITERS dependent steps
// of the same 32-bit LCG as bench/util.c, out of line.
constexpr uint32_t work_iters = 840;  // bench/bench.h BENCH_WORK_ITERS

__attribute__((noinline)) uint32_t bench_work(uint32_t iters, uint32_t x) {
  for (uint32_t i = 0; i < iters; i++) x = x * 1664525u + 1013904223u;
  return x;
}

uint64_t now_ns() {
  return (uint64_t)std::chrono::duration_cast<std::chrono::nanoseconds>(
           clk::now().time_since_epoch()).count();
}

// Nearest rank, as bench/backstage.c.
uint64_t percentile(const std::vector<uint64_t>& v, unsigned p) {
  if (v.empty()) return 0;
  size_t k = (v.size() * p + 99) / 100;
  return v[k ? k - 1 : 0];
}

// xpingpong: ping stamps every round trip when asked to (record).
struct xping_state {
  actor pong;
  actor waiter;
  int64_t left = 0;
  bool record = false;
  uint64_t last = 0;
  std::vector<uint64_t> rtt;
};

behavior xping_fn(stateful_actor<xping_state>* self, actor pong) {
  self->state.pong = pong;
  return {
    [=](go_atom, int64_t rounds, bool record) {
      auto& st = self->state;
      st.left = rounds;
      st.record = record;
      st.waiter = actor_cast<actor>(self->current_sender());
      st.rtt.clear();
      if (record) {
        st.rtt.reserve((size_t)rounds);
        st.last = now_ns();
      }
      self->send(st.pong, int32_t{1});
    },
    [=](int32_t x) {
      auto& st = self->state;
      if (st.record) {
        uint64_t t = now_ns();
        st.rtt.push_back(t - st.last);
        st.last = t;
      }
      if (--st.left > 0) {
        self->send(st.pong, x);
        return;
      }
      uint64_t p50 = 0, p99 = 0;
      if (st.record) {
        std::sort(st.rtt.begin(), st.rtt.end());
        p50 = percentile(st.rtt, 50);
        p99 = percentile(st.rtt, 99);
      }
      self->send(st.waiter, fin_atom::value, (int64_t)st.rtt.size(), p50, p99);
    }};
}

// xcount: windows of 1000 increments, each acknowledged by a request; at
// most 2 unacknowledged (bench/actors/xcount.h).
constexpr int64_t xwindow = 1000;
constexpr int xwindows = 2;

behavior xcounter_fn(stateful_actor<counter_state>* self) {
  return {[=](int32_t x) { self->state.total += x; },
          [=](sync_atom) -> int64_t { return self->state.total; },
          [=](total_atom) -> int64_t { return self->state.total; }};
}

struct xsender_state {
  actor counter;
  actor waiter;
  int64_t left = 0;
  int inflight = 0;
};

void xsend_window(stateful_actor<xsender_state>* self) {
  auto& st = self->state;
  int64_t k = std::min(st.left, xwindow);
  st.left -= k;
  for (int64_t i = 0; i < k; ++i) self->send(st.counter, int32_t{1});
  st.inflight++;
  self->request(st.counter, infinite, sync_atom::value).then([=](int64_t) {
    auto& s = self->state;
    s.inflight--;
    if (s.left > 0)
      xsend_window(self);
    else if (s.inflight == 0)
      self->send(s.waiter, fin_atom::value, int64_t{0});
  });
}

behavior xsender_fn(stateful_actor<xsender_state>* self, actor counter) {
  self->state.counter = counter;
  return {[=](go_atom, int64_t n) {
    self->state.left = n;
    self->state.waiter = actor_cast<actor>(self->current_sender());
    for (int w = 0; w < xwindows && self->state.left > 0; ++w) xsend_window(self);
  }};
}

// xring: hop counter with optional work per hop.
struct xnode_state {
  actor next;
  actor done;
  uint32_t work = 0;
  uint32_t acc = 0;
};

behavior xnode_fn(stateful_actor<xnode_state>* self, actor done, uint32_t work) {
  self->state.done = done;
  self->state.work = work;
  return {[=](next_atom, actor next) { self->state.next = next; },
          [=](int64_t hops) {
            auto& st = self->state;
            if (st.work) st.acc = bench_work(st.work, st.acc + (uint32_t)hops);
            if (hops == 0)
              self->send(st.done, fin_atom::value, int64_t{0});
            else
              self->send(st.next, hops - 1);
          }};
}

// xfanout: subscribers of a local group; the value is the number of events
// left in the run (1: the last one); the publisher publishes windows of 10
// events, each acknowledged by the last subscriber.
struct xsub_state {
  actor done;
  int64_t total = 0;
  uint32_t work = 0;
  uint32_t acc = 0;
};

behavior xsub_fn(stateful_actor<xsub_state>* self, actor done, uint32_t work) {
  self->state.done = done;
  self->state.work = work;
  return {[=](int64_t v) {
            auto& st = self->state;
            st.total++;
            if (st.work) st.acc = bench_work(st.work, st.acc + (uint32_t)v);
            if (v == 1) self->send(st.done, done_atom::value);
          },
          [=](sync_atom) -> int64_t { return self->state.total; },
          [=](total_atom) -> int64_t { return self->state.total; }};
}

constexpr int64_t xfanout_window = 10;

struct xpub_state {
  group grp;
  actor last;
  int64_t left = 0;
};

void xpublish_window(stateful_actor<xpub_state>* self) {
  auto& st = self->state;
  int64_t end = st.left > xfanout_window ? st.left - xfanout_window : 0;
  for (; st.left > end; st.left--) self->send(st.grp, int64_t{st.left});
  self->request(st.last, infinite, sync_atom::value).then([=](int64_t) {
    if (self->state.left > 0) xpublish_window(self);
  });
}

behavior xpub_fn(stateful_actor<xpub_state>* self, group grp, actor last) {
  self->state.grp = grp;
  self->state.last = last;
  return {[=](go_atom, int64_t events) {
    self->state.left = events;
    for (int w = 0; w < xwindows && self->state.left > 0; ++w) xpublish_window(self);
  }};
}

// xspawn: spawners create workers in windows of 1000, at most 2 unanswered.
struct xspawner_state {
  actor waiter;
  int64_t left = 0;
  int64_t created = 0;
  int64_t answers = 0;
};

behavior xworker_fn(event_based_actor* self, actor parent) {
  return {[=](int32_t x) {
    self->send(parent, x);
    self->quit();
  }};
}

void xspawn_window(stateful_actor<xspawner_state>* self) {
  auto& st = self->state;
  int64_t k = std::min(st.left, xwindow);
  st.left -= k;
  for (int64_t i = 0; i < k; ++i) {
    auto w = self->spawn(xworker_fn, actor_cast<actor>(self));
    self->send(w, int32_t{1});
  }
  st.created += k;
}

behavior xspawner_fn(stateful_actor<xspawner_state>* self) {
  return {[=](go_atom, int64_t n) {
            auto& st = self->state;
            st.waiter = actor_cast<actor>(self->current_sender());
            st.left = n;
            st.created = st.answers = 0;
            for (int w = 0; w < xwindows && st.left > 0; ++w) xspawn_window(self);
            if (st.created == 0) self->send(st.waiter, fin_atom::value, int64_t{0});
          },
          [=](int32_t x) {
            auto& st = self->state;
            st.answers += x;
            if (st.left > 0 && st.created - st.answers <= (xwindows - 1) * xwindow)
              xspawn_window(self);
            else if (st.left == 0 && st.answers == st.created)
              self->send(st.waiter, fin_atom::value, st.answers);
          }};
}

// ---- driver ----------------------------------------------------------------

int64_t ask_total(scoped_actor& self, const actor& a) {
  int64_t got = -1;
  self->request(a, infinite, total_atom::value)
    .receive([&](int64_t v) { got = v; }, [&](error&) { got = -1; });
  return got;
}

void wait_fin(scoped_actor& self) {
  self->receive([](fin_atom, int64_t) {});
}

void line(const std::string& w, double ns, long ops, int threads, int rep,
          const std::string& extra = "") {
  std::printf("%s impl=caf ns_per_op=%.3f ops=%ld threads=%d%s rep=%d\n", w.c_str(), ns / ops,
              ops, threads, extra.c_str(), rep);
  std::fflush(stdout);
}

int fail(const std::string& w, const char* what, long long got, long long want) {
  std::fprintf(stderr, "%s: %s: got %lld, want %lld\n", w.c_str(), what, got, want);
  return 1;
}

// Runs `body(size)` once for warm-up, then `reps` times timed.
template <class F>
void measure(const std::string& w, long n, long ops, int reps, int threads, F body) {
  body(n / 10 ? n / 10 : 1);
  for (int rep = 1; rep <= reps; ++rep) {
    auto t0 = clk::now();
    body(n);
    double ns = std::chrono::duration<double, std::nano>(clk::now() - t0).count();
    line(w, ns, ops, threads, rep);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s WORKLOAD N [reps] [threads]\n", argv[0]);
    return 2;
  }
  std::string w = argv[1];
  long n = std::atol(argv[2]);
  int reps = argc > 3 ? std::atoi(argv[3]) : 1;
  int threads = argc > 4 ? std::atoi(argv[4]) : 1;
  if (n <= 0 || reps <= 0 || threads <= 0) return 2;
  actor_system_config cfg;
  cfg.set("scheduler.max-threads", (size_t)threads);
  actor_system sys{cfg};
  scoped_actor self{sys};
  int rc = 0;

  if (w == "pingpong") {
    auto po = sys.spawn(pong_fn);
    auto pi = sys.spawn(ping_fn, po);
    measure(w, n, 2 * n, reps, threads, [&](long k) {
      self->send(pi, go_atom::value, (int64_t)k);
      wait_fin(self);
    });
    anon_send_exit(pi, exit_reason::user_shutdown);
    anon_send_exit(po, exit_reason::user_shutdown);
  } else if (w == "count") {
    auto c = sys.spawn(counter_fn);
    int64_t want = 0, got = 0;
    measure(w, n, n, reps, threads, [&](long k) {
      for (long i = 0; i < k; ++i) self->send(c, int32_t{1});
      got = ask_total(self, c);
      want += k;
      if (got != want) rc = fail(w, "total", got, want);
    });
    anon_send_exit(c, exit_reason::user_shutdown);
  } else if (w == "spawn") {
    measure(w, n, n, reps, threads, [&](long k) {
      for (long i = 0; i < k; ++i) {
        auto a = sys.spawn(worker_fn, actor{self});
        self->send(a, int32_t{1});
      }
      long got = 0;
      self->receive_for(got, k)([](int32_t) {});
    });
  } else if (w == "ring") {
    const long nodes = 1000;
    std::vector<actor> ring;
    for (long i = 0; i < nodes; ++i) ring.push_back(sys.spawn(node_fn, actor{self}));
    for (long i = 0; i < nodes; ++i) self->send(ring[i], next_atom::value, ring[(i + 1) % nodes]);
    measure(w, n, n, reps, threads, [&](long k) {
      self->send(ring[0], (int64_t)k);
      wait_fin(self);
    });
    for (auto& a : ring) anon_send_exit(a, exit_reason::user_shutdown);
  } else if (w == "fanout") {
    const long subs = 100;
    long events = n / subs ? n / subs : 1;
    auto grp = sys.groups().get_local("events");
    std::vector<actor> cs;
    for (long i = 0; i < subs; ++i) cs.push_back(sys.spawn_in_group(grp, counter_fn));
    int64_t want = 0;
    measure(w, events, events * subs, reps, threads, [&](long k) {
      for (long i = 0; i < k; ++i) self->send(grp, int64_t{1});
      want += k;
      for (auto& c : cs) {
        int64_t got = ask_total(self, c);
        if (got != want) rc = fail(w, "subscriber total", got, want);
      }
    });
    for (auto& c : cs) anon_send_exit(c, exit_reason::user_shutdown);
  } else if (w == "reply") {
    auto server = sys.spawn(server_fn);
    auto asker = sys.spawn(asker_fn, server);
    measure(w, n, n, reps, threads, [&](long k) {
      self->send(asker, go_atom::value, (int64_t)k);
      wait_fin(self);
    });
    anon_send_exit(asker, exit_reason::user_shutdown);
    anon_send_exit(server, exit_reason::user_shutdown);
  } else if (w == "await") {
    auto server = sys.spawn(server_fn);
    measure(w, n, n, reps, threads, [&](long k) {
      for (long i = 0; i < k; ++i) {
        int64_t got = -1;
        self->request(server, infinite, (int64_t)i)
          .receive([&](int64_t v) { got = v; }, [&](error&) {});
        if (got != i + 1) rc = fail(w, "echo", got, i + 1);
      }
    });
    anon_send_exit(server, exit_reason::user_shutdown);
  } else if (w == "large") {
    auto sink = sys.spawn(sink_fn);
    std::vector<uint8_t> buf(payload_bytes);
    for (size_t i = 0; i < buf.size(); ++i) buf[i] = (uint8_t)(i * 131u);
    int64_t want = 0;
    measure(w, n, n, reps, threads, [&](long k) {
      int64_t got = 0;
      for (long i = 0; i < k;) {
        long end = i + large_burst < k ? i + large_burst : k;
        for (; i < end; ++i) self->send(sink, (int64_t)i, buf);  // copies buf
        got = ask_total(self, sink);  // flow control: the sink has caught up
      }
      want += k;
      if (got != want) rc = fail(w, "received", got, want);
    });
    anon_send_exit(sink, exit_reason::user_shutdown);
  } else if (w == "large-blob") {
    auto sink = sys.spawn(shared_sink_fn);
    auto buf = std::make_shared<std::vector<uint8_t>>(payload_bytes);
    for (size_t i = 0; i < buf->size(); ++i) (*buf)[i] = (uint8_t)(i * 131u);
    shared_payload shared = buf;
    int64_t want = 0;
    measure(w, n, n, reps, threads, [&](long k) {
      int64_t got = 0;
      for (long i = 0; i < k;) {
        long end = i + large_burst < k ? i + large_burst : k;
        for (; i < end; ++i) self->send(sink, (int64_t)i, shared);  // copies the pointer
        got = ask_total(self, sink);
      }
      want += k;
      if (got != want) rc = fail(w, "received", got, want);
    });
    anon_send_exit(sink, exit_reason::user_shutdown);
  } else if (w == "idle") {
    std::vector<actor> v;
    v.reserve(n);
    long r0 = rss_bytes();
    for (long i = 0; i < n; ++i) {
      v.push_back(sys.spawn(idle_fn));
      self->send(v.back(), int32_t{1});
    }
    long got = 0;
    self->receive_for(got, n)([](int32_t) {});  // every actor has run once
    long r1 = rss_bytes();
    std::printf("idle impl=caf bytes_per_actor=%.1f actors=%ld\n", (double)(r1 - r0) / n, n);
    for (auto& a : v) anon_send_exit(a, exit_reason::user_shutdown);
  } else if (w == "work") {
    uint32_t acc = bench_work(work_iters, 0);
    for (int rep = 1; rep <= reps; ++rep) {
      auto t0 = clk::now();
      for (long i = 0; i < n; ++i) acc = bench_work(work_iters, acc + (uint32_t)i);
      double ns = std::chrono::duration<double, std::nano>(clk::now() - t0).count();
      line(w, ns, n, threads, rep, " check=" + std::to_string(acc));
    }
  } else if (w == "xpingpong") {
    auto po = sys.spawn(pong_fn);
    auto pi = sys.spawn(xping_fn, po);
    auto go = [&](long k, bool record, uint64_t* p50, uint64_t* p99) {
      self->send(pi, go_atom::value, (int64_t)k, record);
      self->receive([&](fin_atom, int64_t stamps, uint64_t a, uint64_t b) {
        *p50 = a;
        *p99 = b;
        if (record && stamps != k) rc = fail(w, "round-trip stamps", stamps, k);
      });
    };
    uint64_t p50 = 0, p99 = 0;
    go(n / 10 ? n / 10 : 1, false, &p50, &p99);
    for (int rep = 1; rep <= reps; ++rep) {
      auto t0 = clk::now();
      go(n, false, &p50, &p99);
      double ns = std::chrono::duration<double, std::nano>(clk::now() - t0).count();
      go(n, true, &p50, &p99);
      line(w, ns, 2 * n, threads, rep,
           " p50_ns=" + std::to_string(p50) + " p99_ns=" + std::to_string(p99));
    }
    anon_send_exit(pi, exit_reason::user_shutdown);
    anon_send_exit(po, exit_reason::user_shutdown);
  } else if (w == "xcount") {
    auto c = sys.spawn(xcounter_fn);
    actor senders[2] = {sys.spawn(xsender_fn, c), sys.spawn(xsender_fn, c)};
    int64_t want = 0;
    measure(w, n, n, reps, threads, [&](long k) {
      self->send(senders[0], go_atom::value, (int64_t)(k / 2));
      self->send(senders[1], go_atom::value, (int64_t)(k - k / 2));
      long got = 0;
      self->receive_for(got, 2L)([](fin_atom, int64_t) {});
      want += k;
      int64_t total = ask_total(self, c);
      if (total != want) rc = fail(w, "total", total, want);
    });
    for (auto& a : senders) anon_send_exit(a, exit_reason::user_shutdown);
    anon_send_exit(c, exit_reason::user_shutdown);
  } else if (w == "xring" || w == "xring-work") {
    const long nodes = 1000, tokens = 10;
    uint32_t work = w == "xring-work" ? work_iters : 0;
    std::vector<actor> ring;
    for (long i = 0; i < nodes; ++i) ring.push_back(sys.spawn(xnode_fn, actor{self}, work));
    for (long i = 0; i < nodes; ++i) self->send(ring[i], next_atom::value, ring[(i + 1) % nodes]);
    measure(w, n, n, reps, threads, [&](long k) {
      for (long t = 0; t < tokens; ++t)
        self->send(ring[t * (nodes / tokens) + t % 2],  // as bench/backstage.c
                   (int64_t)(k / tokens + (t < k % tokens)));
      long got = 0;
      self->receive_for(got, tokens)([](fin_atom, int64_t) {});
    });
    for (auto& a : ring) anon_send_exit(a, exit_reason::user_shutdown);
  } else if (w == "xfanout" || w == "xfanout-work") {
    const long subs = 100;
    uint32_t work = w == "xfanout-work" ? work_iters : 0;
    long events = n / subs ? n / subs : 1;
    auto grp = sys.groups().get_local("xevents");
    std::vector<actor> cs;
    for (long i = 0; i < subs; ++i) cs.push_back(sys.spawn_in_group(grp, xsub_fn, actor{self}, work));
    auto pub = sys.spawn(xpub_fn, grp, cs.back());
    int64_t want = 0;
    measure(w, events, events * subs, reps, threads, [&](long k) {
      self->send(pub, go_atom::value, (int64_t)k);
      long got = 0;
      self->receive_for(got, subs)([](done_atom) {});
      want += k;
    });
    for (auto& c : cs) {
      int64_t got = ask_total(self, c);
      if (got != want) rc = fail(w, "subscriber total", got, want);
    }
    anon_send_exit(pub, exit_reason::user_shutdown);
    for (auto& c : cs) anon_send_exit(c, exit_reason::user_shutdown);
  } else if (w == "xspawn") {
    actor sp[2] = {sys.spawn(xspawner_fn), sys.spawn(xspawner_fn)};
    measure(w, n, n, reps, threads, [&](long k) {
      self->send(sp[0], go_atom::value, (int64_t)(k / 2));
      self->send(sp[1], go_atom::value, (int64_t)(k - k / 2));
      int64_t answers = 0;
      long got = 0;
      self->receive_for(got, 2L)([&](fin_atom, int64_t a) { answers += a; });
      if (answers != k) rc = fail(w, "answers", answers, k);
    });
    for (auto& a : sp) anon_send_exit(a, exit_reason::user_shutdown);
  } else {
    std::fprintf(stderr, "unknown workload %s\n", w.c_str());
    return 2;
  }
  return rc;
}
