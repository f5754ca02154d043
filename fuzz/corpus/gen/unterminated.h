/* @generate-proxy
struct C { int x; };
