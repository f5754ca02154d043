%% The benchmark workloads for Erlang/OTP (Debian erlang-base), written for
%% Backstage's suite. Same workloads, units and output as backstage-bench:
%%
%%   erlc -o DIR bs_peer.erl
%%   erl +S 1:1 +P 4000000 -noshell -pa DIR -run bs_peer main WORKLOAD N REPS -s init stop
%%   -> WORKLOAD impl=erlang ns_per_op=X ops=N threads=S rep=R
%%
%% Each run sets up its processes once, does a warm-up of N/10, then REPS
%% timed runs on the same processes. Hot messages are bare integers, as an
%% Erlang programmer would send them; requests carry a reference.
-module(bs_peer).
-export([main/1]).

-define(RING_NODES, 1000).
-define(FANOUT_SUBS, 100).
-define(LARGE_BURST, 64).
-define(PAYLOAD_BYTES, 65528).

main([W, NS, RS]) ->
    N = list_to_integer(NS),
    Reps = list_to_integer(RS),
    try run(list_to_atom(W), N, Reps)
    catch C:E:St ->
        io:format(standard_error, "~s: ~p:~p ~p~n", [W, C, E, St]),
        erlang:halt(1)
    end.

%% Runs Body(Size) once for warm-up, then Reps times timed.
measure(W, N, Ops, Reps, Body) ->
    Body(max(N div 10, 1)),
    lists:foreach(
      fun(Rep) ->
              T0 = erlang:monotonic_time(nanosecond),
              Body(N),
              T = erlang:monotonic_time(nanosecond) - T0,
              io:format("~s impl=erlang ns_per_op=~.3f ops=~b threads=~b rep=~b~n",
                        [W, T / Ops, Ops, erlang:system_info(schedulers_online), Rep])
      end, lists:seq(1, Reps)).

check(_W, _What, X, X) -> ok;
check(W, What, Got, Want) -> error({W, What, Got, Want}).

send_n(_To, _Msg, 0) -> ok;
send_n(To, Msg, K) -> To ! Msg, send_n(To, Msg, K - 1).

total(P) ->
    Ref = make_ref(),
    P ! {total, self(), Ref},
    receive {Ref, T} -> T end.

%% ---- workloads --------------------------------------------------------------

run(pingpong, N, Reps) ->
    Pong = spawn(fun() -> receive {ping_is, P} -> pong(P) end end),
    Ping = spawn(fun() -> ping_idle(Pong) end),
    Pong ! {ping_is, Ping},
    measure(pingpong, N, 2 * N, Reps,
            fun(K) -> Ping ! {go, self(), K}, receive {fin, K} -> ok end end);
run(count, N, Reps) ->
    C = spawn(fun() -> counter(0) end),
    Want = counter_total(),
    measure(count, N, N, Reps,
            fun(K) ->
                    send_n(C, 1, K),
                    check(count, total, total(C), Want(K))
            end);
run(spawn, N, Reps) ->
    Self = self(),
    measure(spawn, N, N, Reps,
            fun(K) -> spawn_n(Self, K), collect(K) end);
run(ring, N, Reps) ->
    Self = self(),
    Last = spawn(fun() -> receive {next, Nx} -> ring(Nx, Self) end end),
    First = lists:foldl(fun(_, Next) -> spawn(fun() -> ring(Next, Self) end) end,
                        Last, lists:seq(1, ?RING_NODES - 1)),
    Last ! {next, First},
    measure(ring, N, N, Reps,
            fun(K) -> First ! K, receive ring_done -> ok end end);
run(fanout, N, Reps) ->
    Events = max(N div ?FANOUT_SUBS, 1),
    Cs = [spawn(fun() -> counter(0) end) || _ <- lists:seq(1, ?FANOUT_SUBS)],
    Want = counter_total(),
    measure(fanout, Events, Events * ?FANOUT_SUBS, Reps,
            fun(K) ->
                    publish(Cs, K),
                    W = Want(K),
                    [check(fanout, total, total(C), W) || C <- Cs],
                    ok
            end);
run(reply, N, Reps) ->
    Server = spawn(fun server/0),
    Asker = spawn(fun() -> asker_idle(Server) end),
    measure(reply, N, N, Reps,
            fun(K) -> Asker ! {go, self(), K}, receive {fin, K} -> ok end end);
run(await, N, Reps) ->
    Server = spawn(fun server/0),
    measure(await, N, N, Reps, fun(K) -> await_n(Server, 0, K) end);
run(large, N, Reps) ->
    Sink = spawn(fun() -> sink(0, 0) end),
    Bin = list_to_binary([(I * 131) band 255 || I <- lists:seq(0, ?PAYLOAD_BYTES - 1)]),
    Want = counter_total(),
    measure(large, N, N, Reps,
            fun(K) -> check(large, received, large(Sink, Bin, 0, K), Want(K)) end);
%% large-blob: the same as large. An Erlang binary over 64 bytes is already
%% shared by reference between processes (a refc binary): that is what
%% Backstage's blob workload is compared with.
run('large-blob', N, Reps) ->
    Sink = spawn(fun() -> sink(0, 0) end),
    Bin = list_to_binary([(I * 131) band 255 || I <- lists:seq(0, ?PAYLOAD_BYTES - 1)]),
    Want = counter_total(),
    measure('large-blob', N, N, Reps,
            fun(K) -> check('large-blob', received, large(Sink, Bin, 0, K), Want(K)) end);
run(idle, N, _Reps) ->
    Self = self(),
    erlang:garbage_collect(),
    M0 = erlang:memory(total),
    R0 = rss(),
    Ps = [spawn(fun() -> idle(Self) end) || _ <- lists:seq(1, N)],
    [P ! touch || P <- Ps],
    collect(N),                                  % every process has run once
    M1 = erlang:memory(total),
    R1 = rss(),
    io:format("idle impl=erlang bytes_per_actor=~.1f vm_bytes_per_actor=~.1f actors=~b~n",
              [(R1 - R0) / N, (M1 - M0) / N, N]),
    [P ! stop || P <- Ps],
    ok.

%% A running sum of what the workload has done so far, across repetitions.
counter_total() ->
    Key = make_ref(),
    put(Key, 0),
    fun(K) -> T = get(Key) + K, put(Key, T), T end.

%% ---- processes ----------------------------------------------------------------

ping_idle(Pong) ->
    receive {go, From, K} -> Pong ! 1, ping(Pong, From, K, K) end.

ping(Pong, From, 1, K) -> receive X when is_integer(X) -> From ! {fin, K}, ping_idle(Pong) end;
ping(Pong, From, Left, K) -> receive X when is_integer(X) -> Pong ! X, ping(Pong, From, Left - 1, K) end.

pong(Ping) -> receive X -> Ping ! X, pong(Ping) end.

counter(C) ->
    receive
        X when is_integer(X) -> counter(C + X);
        {total, From, Ref} -> From ! {Ref, C}, counter(C)
    end.

spawn_n(_Parent, 0) -> ok;
spawn_n(Parent, K) ->
    P = spawn(fun() -> receive X -> Parent ! {done, X} end end),
    P ! 1,
    spawn_n(Parent, K - 1).

collect(0) -> ok;
collect(K) -> receive {done, _} -> collect(K - 1) end.

ring(Next, Done) ->
    receive
        0 -> Done ! ring_done, ring(Next, Done);
        H -> Next ! H - 1, ring(Next, Done)
    end.

publish(_Cs, 0) -> ok;
publish(Cs, K) -> [C ! 1 || C <- Cs], publish(Cs, K - 1).

server() ->
    receive {From, Ref, X} -> From ! {Ref, X + 1}, server() end.

call(Server, X) ->
    Ref = make_ref(),
    Server ! {self(), Ref, X},
    receive {Ref, Y} -> Y end.

asker_idle(Server) ->
    receive {go, From, K} -> asker(Server, From, K, K, 0) end.

asker(Server, From, 0, K, _V) -> From ! {fin, K}, asker_idle(Server);
asker(Server, From, Left, K, V) -> asker(Server, From, Left - 1, K, call(Server, V)).

await_n(_Server, _I, 0) -> ok;
await_n(Server, I, K) ->
    check(await, echo, call(Server, I), I + 1),
    await_n(Server, I + 1, K - 1).

%% 64 KiB per message: the sequence number and a 65528-byte binary. Erlang
%% shares binaries above 64 bytes by reference: the payload is not copied.
sink(Received, Check) ->
    receive
        {Seq, Bin} ->
            sink(Received + 1,
                 Check + Seq + binary:first(Bin) + binary:last(Bin));
        {total, From, Ref} -> From ! {Ref, Received}, sink(Received, Check)
    end.

large(Sink, _Bin, I, K) when I >= K -> total(Sink);
large(Sink, Bin, I, K) ->
    End = min(I + ?LARGE_BURST, K),
    large_burst(Sink, Bin, I, End),
    total(Sink),                                % flow control: caught up
    large(Sink, Bin, End, K).

large_burst(_Sink, _Bin, I, I) -> ok;
large_burst(Sink, Bin, I, End) -> Sink ! {I, Bin}, large_burst(Sink, Bin, I + 1, End).

idle(Parent) ->
    receive
        touch -> Parent ! {done, 0}, idle(Parent);
        stop -> ok
    end.

rss() ->
    {ok, B} = file:read_file("/proc/self/statm"),
    [_Size, Resident | _] = string:lexemes(binary_to_list(B), " \n"),
    list_to_integer(Resident) * 4096.
