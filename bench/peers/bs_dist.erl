%% Erlang distribution, the peer of bench/cluster.sh: the same two
%% workloads as cluster-bench between two nodes on loopback (two
%% `erl -sname` processes, Erlang's own TCP mesh, no broker).
%%
%%   erlc -o DIR bs_dist.erl
%%   erl -sname sink -setcookie bench -noshell -pa DIR -run bs_dist sink
%%   erl -sname drive -setcookie bench -noshell -pa DIR \
%%       -run bs_dist drive sink@HOST N SIZE RTT -s init stop
%%   -> erlang oneway size S msgs N secs T msgs_per_s X ns_per_msg Y
%%      erlang rtt_p50_us A rtt_p99_us B
%%
%% One-way: N messages {put, Binary} of SIZE bytes to a registered process
%% on the other node, in windows of 100,000 closed by a request (as
%% cluster-bench does); round trip: RTT sequential requests.
-module(bs_dist).
-export([sink/0, drive/1]).

-define(WINDOW, 100000).

sink() ->
    register(bs_sink, self()),
    io:format("READY~n"),
    sink_loop(0).

sink_loop(N) ->
    receive
        {put, _Bin} -> sink_loop(N + 1);
        {count, From, Ref} -> From ! {Ref, N}, sink_loop(N);
        {echo, From, Ref, V} -> From ! {Ref, V}, sink_loop(N)
    end.

count(To) ->
    Ref = make_ref(),
    To ! {count, self(), Ref},
    receive {Ref, C} -> C after 30000 -> error(no_count) end.

send_n(_To, _Msg, 0) -> ok;
send_n(To, Msg, K) -> To ! Msg, send_n(To, Msg, K - 1).

drive([NodeS, NS, SizeS, RttS]) ->
    Node = list_to_atom(NodeS),
    N = list_to_integer(NS),
    Size = list_to_integer(SizeS),
    Rtt = list_to_integer(RttS),
    true = net_kernel:connect_node(Node),
    To = {bs_sink, Node},
    Msg = {put, binary:copy(<<0>>, Size)},
    send_n(To, Msg, 10000),
    count(To),
    T0 = erlang:monotonic_time(nanosecond),
    windows(To, Msg, N),
    T = (erlang:monotonic_time(nanosecond) - T0) / 1.0e9,
    io:format("erlang oneway size ~b msgs ~b secs ~.3f msgs_per_s ~b ns_per_msg ~.1f~n",
              [Size, N, T, round(N / T), T / N * 1.0e9]),
    Lat = lists:sort([echo(To, I) || I <- lists:seq(1, Rtt)]),
    P50 = lists:nth(max(Rtt div 2, 1), Lat),
    P99 = lists:nth(max(Rtt * 99 div 100, 1), Lat),
    io:format("erlang rtt_p50_us ~.1f rtt_p99_us ~.1f~n", [P50 / 1000, P99 / 1000]).

windows(_To, _Msg, 0) -> ok;
windows(To, Msg, Left) ->
    W = min(Left, ?WINDOW),
    send_n(To, Msg, W),
    count(To),
    windows(To, Msg, Left - W).

echo(To, I) ->
    Ref = make_ref(),
    T0 = erlang:monotonic_time(nanosecond),
    To ! {echo, self(), Ref, I},
    receive {Ref, I} -> erlang:monotonic_time(nanosecond) - T0 after 30000 -> error(no_echo) end.
