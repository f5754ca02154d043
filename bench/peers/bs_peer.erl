%% The benchmark workloads for Erlang/OTP (Debian erlang-base), written for
%% Backstage's suite. Same workloads, units and output as backstage-bench:
%%
%%   erlc -o DIR bs_peer.erl
%%   erl +S 1:1 +P 4000000 -noshell -pa DIR -run bs_peer main WORKLOAD N REPS -s init stop
%%   -> WORKLOAD impl=erlang ns_per_op=X ops=N threads=S rep=R
%%
%% The multi-core workloads (x*, and work) are run by bench/run.sh with
%% `+S 2:2`; the VM places processes itself, so there is no shard placement
%% to mirror, the workloads are otherwise those of bench/backstage.c.
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
-define(WORK_ITERS, 840).      % bench/bench.h BENCH_WORK_ITERS
-define(XWINDOW, 1000).        % xcount, xspawn: messages per window
-define(XWINDOWS, 2).          % windows unacknowledged at most
-define(XRING_TOKENS, 10).
-define(XFANOUT_WINDOW, 10).   % events per window

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
              line(W, T, Ops, "", Rep)
      end, lists:seq(1, Reps)).

line(W, T, Ops, Extra, Rep) ->
    io:format("~s impl=erlang ns_per_op=~.3f ops=~b threads=~b~s rep=~b~n",
              [W, T / Ops, Ops, erlang:system_info(schedulers_online), Extra, Rep]).

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
run(work, N, Reps) ->
    work(?WORK_ITERS, 0),
    lists:foreach(
      fun(Rep) ->
              T0 = erlang:monotonic_time(nanosecond),
              Acc = work_n(N, 0),
              T = erlang:monotonic_time(nanosecond) - T0,
              line(work, T, N, io_lib:format(" check=~b", [Acc]), Rep)
      end, lists:seq(1, Reps));
run(xpingpong, N, Reps) ->
    Pong = spawn(fun() -> receive {ping_is, P} -> pong(P) end end),
    Ping = spawn(fun() -> xping_idle(Pong) end),
    Pong ! {ping_is, Ping},
    Go = fun(K, Record) ->
                 Ping ! {go, self(), K, Record},
                 receive {fin, K, Stamps, P50, P99} -> {Stamps, P50, P99} end
         end,
    Go(max(N div 10, 1), false),
    lists:foreach(
      fun(Rep) ->
              T0 = erlang:monotonic_time(nanosecond),
              Go(N, false),
              T = erlang:monotonic_time(nanosecond) - T0,
              {Stamps, P50, P99} = Go(N, true),
              check(xpingpong, stamps, Stamps, N),
              line(xpingpong, T, 2 * N, io_lib:format(" p50_ns=~b p99_ns=~b", [P50, P99]), Rep)
      end, lists:seq(1, Reps));
run(xcount, N, Reps) ->
    Self = self(),
    C = spawn(fun() -> counter(0) end),
    Senders = [spawn(fun() -> xsender_idle(C, Self) end) || _ <- [1, 2]],
    Want = counter_total(),
    measure(xcount, N, N, Reps,
            fun(K) ->
                    [S ! {go, Share} || {S, Share} <- lists:zip(Senders, [K div 2, K - K div 2])],
                    [receive xsent -> ok end || _ <- Senders],
                    check(xcount, total, total(C), Want(K))
            end);
run(xring, N, Reps) -> xring(xring, N, Reps, 0);
run('xring-work', N, Reps) -> xring('xring-work', N, Reps, ?WORK_ITERS);
run(xfanout, N, Reps) -> xfanout(xfanout, N, Reps, 0);
run('xfanout-work', N, Reps) -> xfanout('xfanout-work', N, Reps, ?WORK_ITERS);
run(xspawn, N, Reps) ->
    Self = self(),
    Spawners = [spawn(fun() -> xspawner_idle(Self) end) || _ <- [1, 2]],
    measure(xspawn, N, N, Reps,
            fun(K) ->
                    [S ! {go, Share} || {S, Share} <- lists:zip(Spawners, [K div 2, K - K div 2])],
                    Answers = lists:sum([receive {xspawned, A} -> A end || _ <- Spawners]),
                    check(xspawn, answers, Answers, K)
            end);
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

xring(W, N, Reps, Work) ->
    Self = self(),
    Last = spawn(fun() -> receive {next, Nx} -> xnode(Nx, Self, Work, 0) end end),
    Nodes = lists:foldl(fun(_, [Next | _] = Acc) ->
                                [spawn(fun() -> xnode(Next, Self, Work, 0) end) | Acc]
                        end, [Last], lists:seq(1, ?RING_NODES - 1)),
    Last ! {next, hd(Nodes)},
    %% Token T starts at node T * 100 + T rem 2, as in bench/backstage.c.
    Starts = [lists:nth(T * (?RING_NODES div ?XRING_TOKENS) + T rem 2 + 1, Nodes)
              || T <- lists:seq(0, ?XRING_TOKENS - 1)],
    measure(W, N, N, Reps,
            fun(K) ->
                    lists:foreach(
                      fun({T, P}) ->
                              P ! K div ?XRING_TOKENS + (case T < K rem ?XRING_TOKENS of
                                                             true -> 1; false -> 0 end)
                      end, lists:zip(lists:seq(0, ?XRING_TOKENS - 1), Starts)),
                    [receive ring_done -> ok end || _ <- Starts],
                    ok
            end).

xfanout(W, N, Reps, Work) ->
    Self = self(),
    Events = max(N div ?FANOUT_SUBS, 1),
    Subs = [spawn(fun() -> xsub(Self, Work, 0, 0) end) || _ <- lists:seq(1, ?FANOUT_SUBS)],
    Pub = spawn(fun() -> xpub_idle(Subs, lists:last(Subs)) end),
    Want = counter_total(),
    measure(W, Events, Events * ?FANOUT_SUBS, Reps,
            fun(K) ->
                    Pub ! {go, K},
                    [receive xdone -> ok end || _ <- Subs],
                    Want(K)
            end),
    WantAll = Want(0),
    [check(W, total, total(S), WantAll) || S <- Subs],
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

%% ---- multi-core processes ------------------------------------------------------

%% The work unit: ?WORK_ITERS dependent steps of the 32-bit LCG of bench/util.c.
work(0, X) -> X;
work(K, X) -> work(K - 1, (X * 1664525 + 1013904223) band 16#FFFFFFFF).

work_n(0, Acc) -> Acc;
work_n(I, Acc) -> work_n(I - 1, work(?WORK_ITERS, (Acc + I) band 16#FFFFFFFF)).

now_ns() -> erlang:monotonic_time(nanosecond).

%% Nearest rank, as bench/backstage.c.
percentile([], _P) -> 0;
percentile(Sorted, P) ->
    K = (length(Sorted) * P + 99) div 100,
    lists:nth(max(K, 1), Sorted).

xping_idle(Pong) ->
    receive
        {go, From, K, false} -> Pong ! 1, xping(Pong, From, K, K);
        {go, From, K, true} -> Pong ! 1, xping_rec(Pong, From, K, K, now_ns(), [])
    end.

xping(Pong, From, 1, K) ->
    receive X when is_integer(X) -> From ! {fin, K, 0, 0, 0}, xping_idle(Pong) end;
xping(Pong, From, Left, K) ->
    receive X when is_integer(X) -> Pong ! X, xping(Pong, From, Left - 1, K) end.

xping_rec(Pong, From, Left, K, Last, Rtts) ->
    receive
        X when is_integer(X) ->
            T = now_ns(),
            Rtts1 = [T - Last | Rtts],
            case Left of
                1 ->
                    Sorted = lists:sort(Rtts1),
                    From ! {fin, K, length(Sorted), percentile(Sorted, 50), percentile(Sorted, 99)},
                    xping_idle(Pong);
                _ ->
                    Pong ! X,
                    xping_rec(Pong, From, Left - 1, K, T, Rtts1)
            end
    end.

xsender_idle(C, Main) ->
    receive {go, N} -> xsender(C, Main, xsend_windows(C, N, 0, ?XWINDOWS)) end.

%% Sends up to Windows more windows: {Left, Inflight}.
xsend_windows(_C, Left, Inflight, 0) -> {Left, Inflight};
xsend_windows(_C, 0, Inflight, _) -> {0, Inflight};
xsend_windows(C, Left, Inflight, Windows) ->
    K = min(Left, ?XWINDOW),
    send_n(C, 1, K),
    C ! {total, self(), make_ref()},
    xsend_windows(C, Left - K, Inflight + 1, Windows - 1).

xsender(C, Main, {0, 0}) -> Main ! xsent, xsender_idle(C, Main);
xsender(C, Main, {Left, Inflight}) ->
    receive {R, _Total} when is_reference(R) ->
        xsender(C, Main, xsend_windows(C, Left, Inflight - 1, 1))
    end.

xnode(Next, Done, Work, Acc) ->
    receive
        {next, Nx} -> xnode(Nx, Done, Work, Acc);
        H when is_integer(H) ->
            Acc1 = case Work of 0 -> Acc; _ -> work(Work, (Acc + H) band 16#FFFFFFFF) end,
            case H of
                0 -> Done ! ring_done;
                _ -> Next ! H - 1
            end,
            xnode(Next, Done, Work, Acc1)
    end.

xsub(Main, Work, Total, Acc) ->
    receive
        V when is_integer(V) ->
            Acc1 = case Work of 0 -> Acc; _ -> work(Work, (Acc + V) band 16#FFFFFFFF) end,
            case V of 1 -> Main ! xdone; _ -> ok end,
            xsub(Main, Work, Total + 1, Acc1);
        {total, From, Ref} -> From ! {Ref, Total}, xsub(Main, Work, Total, Acc)
    end.

xpub_idle(Subs, Last) ->
    receive {go, K} -> xpub(Subs, Last, xpublish_windows(Subs, Last, K, ?XWINDOWS)) end.

xpublish_windows(_Subs, _Last, Left, 0) -> Left;
xpublish_windows(_Subs, _Last, 0, _) -> 0;
xpublish_windows(Subs, Last, Left, Windows) ->
    End = max(Left - ?XFANOUT_WINDOW, 0),
    xpublish(Subs, Left, End),
    Last ! {total, self(), make_ref()},
    xpublish_windows(Subs, Last, End, Windows - 1).

xpublish(_Subs, End, End) -> ok;
xpublish(Subs, V, End) -> [S ! V || S <- Subs], xpublish(Subs, V - 1, End).

%% Acknowledgements of the run's windows still arrive after the last
%% window is out; they are dropped by the next run's receive.
xpub(Subs, Last, 0) -> xpub_idle_flush(Subs, Last);
xpub(Subs, Last, Left) ->
    receive {R, _Total} when is_reference(R) ->
        xpub(Subs, Last, xpublish_windows(Subs, Last, Left, 1))
    end.

xpub_idle_flush(Subs, Last) ->
    receive
        {R, _Total} when is_reference(R) -> xpub_idle_flush(Subs, Last);
        {go, K} -> xpub(Subs, Last, xpublish_windows(Subs, Last, K, ?XWINDOWS))
    end.

xspawner_idle(Main) ->
    receive
        {go, 0} -> Main ! {xspawned, 0}, xspawner_idle(Main);
        {go, N} -> xspawner(Main, xspawn_windows(N, 0, ?XWINDOWS), 0)
    end.

%% {Left, Created}
xspawn_windows(Left, Created, 0) -> {Left, Created};
xspawn_windows(0, Created, _) -> {0, Created};
xspawn_windows(Left, Created, Windows) ->
    K = min(Left, ?XWINDOW),
    Self = self(),
    xspawn_n(Self, K),
    xspawn_windows(Left - K, Created + K, Windows - 1).

xspawn_n(_Parent, 0) -> ok;
xspawn_n(Parent, K) ->
    P = spawn(fun() -> receive X -> Parent ! {xanswer, X} end end),
    P ! 1,
    xspawn_n(Parent, K - 1).

xspawner(Main, {0, Created}, Created) -> Main ! {xspawned, Created}, xspawner_idle(Main);
xspawner(Main, {Left, Created}, Answers) ->
    receive {xanswer, X} ->
        A = Answers + X,
        case Left > 0 andalso Created - A =< (?XWINDOWS - 1) * ?XWINDOW of
            true -> xspawner(Main, xspawn_windows(Left, Created, 1), A);
            false -> xspawner(Main, {Left, Created}, A)
        end
    end.

rss() ->
    {ok, B} = file:read_file("/proc/self/statm"),
    [_Size, Resident | _] = string:lexemes(binary_to_list(B), " \n"),
    list_to_integer(Resident) * 4096.
