// CZeroMQ: the libzmq C API (libzmq3-dev, ZeroMQ 4.3) as a Swift module.
#include <zmq.h>
