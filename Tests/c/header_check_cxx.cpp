// header_check_cxx.cpp — eddy.h is also a clean C++ header (extern "C", no C-only syntax).
#include "eddy.h"

int main()
{
    eddy_tcp_t t = { 0 };
    (void)t;
    return eddy_version() == EDDY_VERSION_HEX ? 0 : 1;
}
