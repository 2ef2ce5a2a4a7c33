/* header_check.c — eddy.h compiles cleanly under -Wall -Wextra -Werror -pedantic -std=c11
 * (and as C++), is idempotent, and every declared function exists in libeddy.so with
 * exactly the type written here: each address is taken through a pointer of the expected
 * type (a prototype change fails to compile; a missing export fails to link).
 * mk/c.mk checks that every function declared in eddy.h is named in this file. */
#include "eddy.h"
#include "eddy.h" /* include guard */

#include <stdio.h>

typedef void (*any_fn)(void);

#define ENTRY(name) { #name, (any_fn)p_##name }

static unsigned int (*const p_eddy_version)(void) = eddy_version;
static const char *(*const p_eddy_version_string)(void) = eddy_version_string;
static const char *(*const p_eddy_strerror)(int) = eddy_strerror;
static const char *(*const p_eddy_err_name)(int) = eddy_err_name;
static int (*const p_eddy_config_init)(eddy_config_t *) = eddy_config_init;
static int (*const p_eddy_runtime_new)(const eddy_config_t *, eddy_runtime_t *) = eddy_runtime_new;
static int (*const p_eddy_runtime_run)(eddy_runtime_t) = eddy_runtime_run;
static int (*const p_eddy_runtime_run_until)(eddy_runtime_t, eddy_task_t, int *) = eddy_runtime_run_until;
static int (*const p_eddy_block_on)(eddy_runtime_t, eddy_poll_fn, void *, eddy_drop_fn, int *) = eddy_block_on;
static int (*const p_eddy_runtime_free)(eddy_runtime_t) = eddy_runtime_free;
static int (*const p_eddy_spawn)(eddy_runtime_t, eddy_poll_fn, void *, eddy_drop_fn, eddy_task_t *) = eddy_spawn;
static int (*const p_eddy_task_poll_join)(eddy_task_t, eddy_cx_t *, int *) = eddy_task_poll_join;
static int (*const p_eddy_task_status)(eddy_task_t, int *) = eddy_task_status;
static int (*const p_eddy_task_abort)(eddy_task_t) = eddy_task_abort;
static int (*const p_eddy_task_free)(eddy_task_t) = eddy_task_free;
static int (*const p_eddy_cx_waker)(eddy_cx_t *, eddy_waker_t *) = eddy_cx_waker;
static int (*const p_eddy_cx_runtime)(eddy_cx_t *, eddy_runtime_t *) = eddy_cx_runtime;
static int (*const p_eddy_waker_wake)(eddy_waker_t) = eddy_waker_wake;
static int (*const p_eddy_waker_free)(eddy_waker_t) = eddy_waker_free;
static int (*const p_eddy_tcp_listen)(eddy_runtime_t, const char *, uint16_t, int, eddy_tcp_t *) = eddy_tcp_listen;
static int (*const p_eddy_tcp_poll_accept)(eddy_tcp_t, eddy_cx_t *, eddy_tcp_t *) = eddy_tcp_poll_accept;
static int (*const p_eddy_tcp_poll_read)(eddy_tcp_t, eddy_cx_t *, void *, size_t, size_t *) = eddy_tcp_poll_read;
static int (*const p_eddy_tcp_poll_write)(eddy_tcp_t, eddy_cx_t *, const void *, size_t, size_t *) =
    eddy_tcp_poll_write;
static int (*const p_eddy_tcp_poll_shutdown)(eddy_tcp_t, eddy_cx_t *) = eddy_tcp_poll_shutdown;
static int (*const p_eddy_tcp_local_port)(eddy_tcp_t, uint16_t *) = eddy_tcp_local_port;
static int (*const p_eddy_tcp_set_nodelay)(eddy_tcp_t, int) = eddy_tcp_set_nodelay;
static int (*const p_eddy_tcp_fd)(eddy_tcp_t, int *) = eddy_tcp_fd;
static int (*const p_eddy_tcp_close)(eddy_tcp_t) = eddy_tcp_close;
static int (*const p_eddy_tcp_connect)(eddy_runtime_t, const char *, uint16_t, eddy_future_t *) = eddy_tcp_connect;
static int (*const p_eddy_sleep)(eddy_runtime_t, uint64_t, eddy_future_t *) = eddy_sleep;
static int (*const p_eddy_timeout)(eddy_runtime_t, eddy_future_t, uint64_t, eddy_future_t *) = eddy_timeout;
static int (*const p_eddy_future_poll)(eddy_future_t, eddy_cx_t *) = eddy_future_poll;
static int (*const p_eddy_future_take_tcp)(eddy_future_t, eddy_tcp_t *) = eddy_future_take_tcp;
static int (*const p_eddy_future_take_value)(eddy_future_t, eddy_value_t *) = eddy_future_take_value;
static int (*const p_eddy_future_then)(eddy_future_t, eddy_then_fn, void *) = eddy_future_then;
static int (*const p_eddy_future_free)(eddy_future_t) = eddy_future_free;
static int (*const p_eddy_blocking_call)(eddy_runtime_t, void (*)(void), const char *, const eddy_value_t *, size_t,
                                         eddy_future_t *) = eddy_blocking_call;
static int (*const p_eddy_spawn_blocking)(eddy_runtime_t, void *(*)(void *), void *, eddy_future_t *) =
    eddy_spawn_blocking;
static int (*const p_eddy_fd_watch)(eddy_runtime_t, int, eddy_fd_t *) = eddy_fd_watch;
static int (*const p_eddy_fd_poll_ready)(eddy_fd_t, eddy_cx_t *, uint32_t, uint32_t *) = eddy_fd_poll_ready;
static int (*const p_eddy_fd_clear_ready)(eddy_fd_t, uint32_t) = eddy_fd_clear_ready;
static int (*const p_eddy_fd_free)(eddy_fd_t) = eddy_fd_free;
/* ---- driver (io_uring) ---- */
static int (*const p_eddy_runtime_driver)(eddy_runtime_t, uint32_t *, int *) = eddy_runtime_driver;
static int (*const p_eddy_host_spawn)(eddy_runtime_t, eddy_host_task_t *) = eddy_host_spawn;
static int (*const p_eddy_host_turn)(eddy_host_batch_t *) = eddy_host_turn;
static int (*const p_eddy_host_enter)(eddy_runtime_t, eddy_host_task_t, eddy_cx_t **) = eddy_host_enter;
static int (*const p_eddy_host_wake)(eddy_runtime_t, eddy_host_task_t) = eddy_host_wake;
static int (*const p_eddy_host_write)(eddy_host_task_t, eddy_tcp_t, const void *, size_t) = eddy_host_write;
/* ---- graceful shutdown, metrics, task dump (issue 14, branch pool-14) ---- */
static int (*const p_eddy_runtime_shutdown)(eddy_runtime_t, uint64_t, eddy_shutdown_report_t *) =
    eddy_runtime_shutdown;
static int (*const p_eddy_runtime_metrics)(eddy_runtime_t, eddy_runtime_metrics_t *) = eddy_runtime_metrics;
static int (*const p_eddy_runtime_task_dump)(eddy_runtime_t, char *, size_t, size_t *) = eddy_runtime_task_dump;
/* ---- multi-thread runtime (issue 14) ---- */
static int (*const p_eddy_runtime_workers)(eddy_runtime_t, uint32_t *) = eddy_runtime_workers;
static int (*const p_eddy_spawn_on)(eddy_runtime_t, uint32_t, eddy_poll_fn, void *, eddy_drop_fn, eddy_task_t *) = eddy_spawn_on;
static int (*const p_eddy_runtime_worker_metrics)(eddy_runtime_t, uint32_t, eddy_runtime_metrics_t *) = eddy_runtime_worker_metrics;

/* ---- issue 15: UDP, addresses, options ---- */
static int (*const p_eddy_addr_parse)(const char *, uint16_t, eddy_addr_t *) = eddy_addr_parse;
static int (*const p_eddy_addr_format)(const eddy_addr_t *, char *, size_t) = eddy_addr_format;
static int (*const p_eddy_udp_bind)(eddy_runtime_t, const char *, uint16_t, uint32_t, eddy_udp_t *) = eddy_udp_bind;
static int (*const p_eddy_udp_from_fd)(eddy_runtime_t, int, eddy_udp_t *) = eddy_udp_from_fd;
static int (*const p_eddy_udp_connect)(eddy_udp_t, const eddy_addr_t *) = eddy_udp_connect;
static int (*const p_eddy_udp_poll_recv_from)(eddy_udp_t, eddy_cx_t *, void *, size_t, size_t *, eddy_addr_t *, int *) = eddy_udp_poll_recv_from;
static int (*const p_eddy_udp_poll_send_to)(eddy_udp_t, eddy_cx_t *, const void *, size_t, const eddy_addr_t *, size_t *) = eddy_udp_poll_send_to;
static int (*const p_eddy_udp_poll_recv)(eddy_udp_t, eddy_cx_t *, void *, size_t, size_t *, int *) = eddy_udp_poll_recv;
static int (*const p_eddy_udp_poll_send)(eddy_udp_t, eddy_cx_t *, const void *, size_t, size_t *) = eddy_udp_poll_send;
static int (*const p_eddy_udp_set_option)(eddy_udp_t, int, int) = eddy_udp_set_option;
static int (*const p_eddy_udp_get_option)(eddy_udp_t, int, int *) = eddy_udp_get_option;
static int (*const p_eddy_udp_multicast)(eddy_udp_t, const char *, uint32_t, int) = eddy_udp_multicast;
static int (*const p_eddy_udp_local_addr)(eddy_udp_t, eddy_addr_t *) = eddy_udp_local_addr;
static int (*const p_eddy_udp_peer_addr)(eddy_udp_t, eddy_addr_t *) = eddy_udp_peer_addr;
static int (*const p_eddy_udp_fd)(eddy_udp_t, int *) = eddy_udp_fd;
static int (*const p_eddy_udp_close)(eddy_udp_t) = eddy_udp_close;
static int (*const p_eddy_tcp_listen_flags)(eddy_runtime_t, const char *, uint16_t, int, uint32_t, eddy_tcp_t *) = eddy_tcp_listen_flags;
static int (*const p_eddy_tcp_listener_from_fd)(eddy_runtime_t, int, eddy_tcp_t *) = eddy_tcp_listener_from_fd;
static int (*const p_eddy_tcp_stream_from_fd)(eddy_runtime_t, int, eddy_tcp_t *) = eddy_tcp_stream_from_fd;
static int (*const p_eddy_tcp_shutdown)(eddy_tcp_t, int) = eddy_tcp_shutdown;
static int (*const p_eddy_tcp_local_addr)(eddy_tcp_t, eddy_addr_t *) = eddy_tcp_local_addr;
static int (*const p_eddy_tcp_peer_addr)(eddy_tcp_t, eddy_addr_t *) = eddy_tcp_peer_addr;
static int (*const p_eddy_tcp_set_option)(eddy_tcp_t, int, int) = eddy_tcp_set_option;
static int (*const p_eddy_tcp_get_option)(eddy_tcp_t, int, int *) = eddy_tcp_get_option;
static int (*const p_eddy_unix_listen)(eddy_runtime_t, const char *, int, uint32_t, eddy_tcp_t *) = eddy_unix_listen;
static int (*const p_eddy_unix_connect)(eddy_runtime_t, const char *, eddy_future_t *) = eddy_unix_connect;
static int (*const p_eddy_tcp_peer_cred)(eddy_tcp_t, int32_t *, uint32_t *, uint32_t *) = eddy_tcp_peer_cred;
static int (*const p_eddy_tcp_poll_send_fd)(eddy_tcp_t, eddy_cx_t *, int) = eddy_tcp_poll_send_fd;
static int (*const p_eddy_tcp_poll_recv_fd)(eddy_tcp_t, eddy_cx_t *, int *) = eddy_tcp_poll_recv_fd;
/* ---- end issue 15 ---- */
/* ---- lines and files (branch lines-15) ---- */
static int (*const p_eddy_reader_new)(eddy_tcp_t, size_t, eddy_reader_t *) = eddy_reader_new;
static int (*const p_eddy_reader_poll_line)(eddy_reader_t, eddy_cx_t *, const void *, size_t, const uint8_t **, size_t *) =
    eddy_reader_poll_line;
static int (*const p_eddy_reader_poll_exact)(eddy_reader_t, eddy_cx_t *, size_t, const uint8_t **) = eddy_reader_poll_exact;
static int (*const p_eddy_reader_free)(eddy_reader_t) = eddy_reader_free;
static int (*const p_eddy_file_read)(eddy_runtime_t, const char *, eddy_future_t *) = eddy_file_read;
static int (*const p_eddy_file_write)(eddy_runtime_t, const char *, const void *, size_t, uint32_t, eddy_future_t *) =
    eddy_file_write;
static int (*const p_eddy_file_open)(eddy_runtime_t, const char *, int, eddy_future_t *) = eddy_file_open;
static int (*const p_eddy_file_read_fd)(eddy_runtime_t, int, size_t, eddy_future_t *) = eddy_file_read_fd;
static int (*const p_eddy_file_write_fd)(eddy_runtime_t, int, const void *, size_t, eddy_future_t *) = eddy_file_write_fd;
static int (*const p_eddy_future_file_data)(eddy_future_t, const uint8_t **, size_t *) = eddy_future_file_data;
static int (*const p_eddy_future_take_fd)(eddy_future_t, int *) = eddy_future_take_fd;
/* ---- end lines and files ---- */
/* ---- names (issue 15 item 1) ---- */
static int (*const p_eddy_resolve)(eddy_runtime_t, const char *, uint16_t, eddy_future_t *) = eddy_resolve;
static int (*const p_eddy_future_get_addrs)(eddy_future_t, eddy_addr_t *, size_t, size_t *) = eddy_future_get_addrs;
static int (*const p_eddy_tcp_connect_addrs)(eddy_runtime_t, const eddy_addr_t *, size_t, eddy_future_t *) =
    eddy_tcp_connect_addrs;
static int (*const p_eddy_tcp_listen_addr)(eddy_runtime_t, const eddy_addr_t *, int, uint32_t, eddy_tcp_t *) =
    eddy_tcp_listen_addr;
/* ---- end names ---- */
/* ---- Unix datagram sockets (issue 15 item 3) ---- */
static int (*const p_eddy_unixdgram_bind)(eddy_runtime_t, const char *, uint32_t, eddy_unixdgram_t *) =
    eddy_unixdgram_bind;
static int (*const p_eddy_unixdgram_connect)(eddy_unixdgram_t, const char *) = eddy_unixdgram_connect;
static int (*const p_eddy_unixdgram_poll_recv_from)(eddy_unixdgram_t, eddy_cx_t *, void *, size_t, size_t *, char *,
                                                    size_t, int *) = eddy_unixdgram_poll_recv_from;
static int (*const p_eddy_unixdgram_poll_send_to)(eddy_unixdgram_t, eddy_cx_t *, const void *, size_t, const char *,
                                                  size_t *) = eddy_unixdgram_poll_send_to;
static int (*const p_eddy_unixdgram_poll_recv)(eddy_unixdgram_t, eddy_cx_t *, void *, size_t, size_t *, int *) =
    eddy_unixdgram_poll_recv;
static int (*const p_eddy_unixdgram_poll_send)(eddy_unixdgram_t, eddy_cx_t *, const void *, size_t, size_t *) =
    eddy_unixdgram_poll_send;
static int (*const p_eddy_unixdgram_fd)(eddy_unixdgram_t, int *) = eddy_unixdgram_fd;
static int (*const p_eddy_unixdgram_close)(eddy_unixdgram_t) = eddy_unixdgram_close;
static int (*const p_eddy_unixdgram_from_fd)(eddy_runtime_t, int, eddy_unixdgram_t *) = eddy_unixdgram_from_fd;
static int (*const p_eddy_unixdgram_local_addr)(eddy_unixdgram_t, char *, size_t) = eddy_unixdgram_local_addr;
static int (*const p_eddy_unixdgram_peer_addr)(eddy_unixdgram_t, char *, size_t) = eddy_unixdgram_peer_addr;
/* ---- end Unix datagram sockets ---- */
/* ---- channels (issue 16) ---- */
static int (*const p_eddy_channel_new)(eddy_runtime_t, size_t, eddy_drop_fn, eddy_sender_t *, eddy_receiver_t *) =
    eddy_channel_new;
static int (*const p_eddy_oneshot_new)(eddy_runtime_t, eddy_drop_fn, eddy_sender_t *, eddy_receiver_t *) = eddy_oneshot_new;
static int (*const p_eddy_channel_clone_sender)(eddy_sender_t, eddy_sender_t *) = eddy_channel_clone_sender;
static int (*const p_eddy_channel_try_send)(eddy_sender_t, void *) = eddy_channel_try_send;
static int (*const p_eddy_channel_poll_send)(eddy_sender_t, eddy_cx_t *, void *) = eddy_channel_poll_send;
static int (*const p_eddy_channel_try_recv)(eddy_receiver_t, void **) = eddy_channel_try_recv;
static int (*const p_eddy_channel_poll_recv)(eddy_receiver_t, eddy_cx_t *, void **) = eddy_channel_poll_recv;
static int (*const p_eddy_channel_close)(eddy_receiver_t) = eddy_channel_close;
static int (*const p_eddy_channel_sender_free)(eddy_sender_t) = eddy_channel_sender_free;
static int (*const p_eddy_channel_receiver_free)(eddy_receiver_t) = eddy_channel_receiver_free;
static int (*const p_eddy_semaphore_new)(eddy_runtime_t, uint32_t, uint32_t, eddy_semaphore_t *) = eddy_semaphore_new;
static int (*const p_eddy_semaphore_clone)(eddy_semaphore_t, eddy_semaphore_t *) = eddy_semaphore_clone;
static int (*const p_eddy_semaphore_try_acquire)(eddy_semaphore_t) = eddy_semaphore_try_acquire;
static int (*const p_eddy_semaphore_poll_acquire)(eddy_semaphore_t, eddy_cx_t *) = eddy_semaphore_poll_acquire;
static int (*const p_eddy_semaphore_release)(eddy_semaphore_t) = eddy_semaphore_release;
static int (*const p_eddy_semaphore_close)(eddy_semaphore_t) = eddy_semaphore_close;
static int (*const p_eddy_semaphore_free)(eddy_semaphore_t) = eddy_semaphore_free;
static int (*const p_eddy_notify_new)(eddy_runtime_t, eddy_notify_t *) = eddy_notify_new;
static int (*const p_eddy_notify_clone)(eddy_notify_t, eddy_notify_t *) = eddy_notify_clone;
static int (*const p_eddy_notify_one)(eddy_notify_t) = eddy_notify_one;
static int (*const p_eddy_notify_all)(eddy_notify_t) = eddy_notify_all;
static int (*const p_eddy_notify_poll_wait)(eddy_notify_t, eddy_cx_t *) = eddy_notify_poll_wait;
static int (*const p_eddy_notify_free)(eddy_notify_t) = eddy_notify_free;
static int (*const p_eddy_condition_new)(eddy_runtime_t, eddy_condition_t *) = eddy_condition_new;
static int (*const p_eddy_condition_clone)(eddy_condition_t, eddy_condition_t *) = eddy_condition_clone;
static int (*const p_eddy_condition_poll_wait)(eddy_condition_t, eddy_semaphore_t, eddy_cx_t *) = eddy_condition_poll_wait;
static int (*const p_eddy_condition_notify_one)(eddy_condition_t) = eddy_condition_notify_one;
static int (*const p_eddy_condition_notify_all)(eddy_condition_t) = eddy_condition_notify_all;
static int (*const p_eddy_condition_free)(eddy_condition_t) = eddy_condition_free;
/* ---- time and combinators (issue 16, item 6) ---- */
static int (*const p_eddy_now)(eddy_runtime_t, uint64_t *) = eddy_now;
static int (*const p_eddy_runtime_clock_pause)(eddy_runtime_t) = eddy_runtime_clock_pause;
static int (*const p_eddy_runtime_clock_resume)(eddy_runtime_t) = eddy_runtime_clock_resume;
static int (*const p_eddy_runtime_clock_advance)(eddy_runtime_t, uint64_t) = eddy_runtime_clock_advance;
static int (*const p_eddy_sleep_until)(eddy_runtime_t, uint64_t, eddy_future_t *) = eddy_sleep_until;
static int (*const p_eddy_interval_new)(eddy_runtime_t, uint64_t, uint64_t, int, eddy_interval_t *) = eddy_interval_new;
static int (*const p_eddy_interval_poll_tick)(eddy_interval_t, eddy_cx_t *, uint64_t *) = eddy_interval_poll_tick;
static int (*const p_eddy_interval_free)(eddy_interval_t) = eddy_interval_free;
static int (*const p_eddy_join_poll)(const eddy_future_t *, size_t, eddy_cx_t *, int *) = eddy_join_poll;
static int (*const p_eddy_select_poll)(const eddy_future_t *, size_t, eddy_cx_t *, size_t *, int *) = eddy_select_poll;
/* ---- signals and child processes (issue 16, branch sigproc-16) ---- */
static int (*const p_eddy_signal_watch)(eddy_runtime_t, const int *, size_t, eddy_signal_t *) = eddy_signal_watch;
static int (*const p_eddy_signal_poll)(eddy_signal_t, eddy_cx_t *, int *) = eddy_signal_poll;
static int (*const p_eddy_signal_free)(eddy_signal_t) = eddy_signal_free;
static int (*const p_eddy_process_spawn)(eddy_runtime_t, const char *const *, const char *const *, const char *,
                                         const int *, eddy_process_t *) = eddy_process_spawn;
static int (*const p_eddy_process_pid)(eddy_process_t, int32_t *) = eddy_process_pid;
static int (*const p_eddy_process_take_stdio)(eddy_process_t, int, eddy_tcp_t *) = eddy_process_take_stdio;
static int (*const p_eddy_process_poll_wait)(eddy_process_t, eddy_cx_t *, int *, int *) = eddy_process_poll_wait;
static int (*const p_eddy_process_kill)(eddy_process_t, int) = eddy_process_kill;
static int (*const p_eddy_process_wait)(eddy_process_t, eddy_future_t *) = eddy_process_wait;
static int (*const p_eddy_process_free)(eddy_process_t) = eddy_process_free;
/* ---- end signals and child processes ---- */
/* ---- broadcast and watch channels (issue 16 item 1, branch bcast-16) ---- */
static int (*const p_eddy_broadcast_new)(eddy_runtime_t, size_t, eddy_clone_fn, eddy_drop_fn, eddy_broadcast_tx_t *,
                                         eddy_broadcast_rx_t *) = eddy_broadcast_new;
static int (*const p_eddy_broadcast_subscribe)(eddy_broadcast_tx_t, eddy_broadcast_rx_t *) = eddy_broadcast_subscribe;
static int (*const p_eddy_broadcast_send)(eddy_broadcast_tx_t, void *) = eddy_broadcast_send;
static int (*const p_eddy_broadcast_try_recv)(eddy_broadcast_rx_t, void **, uint64_t *) = eddy_broadcast_try_recv;
static int (*const p_eddy_broadcast_poll_recv)(eddy_broadcast_rx_t, eddy_cx_t *, void **, uint64_t *) =
    eddy_broadcast_poll_recv;
static int (*const p_eddy_broadcast_sender_free)(eddy_broadcast_tx_t) = eddy_broadcast_sender_free;
static int (*const p_eddy_broadcast_receiver_free)(eddy_broadcast_rx_t) = eddy_broadcast_receiver_free;
static int (*const p_eddy_watch_new)(eddy_runtime_t, void *, eddy_clone_fn, eddy_drop_fn, eddy_watch_tx_t *,
                                     eddy_watch_rx_t *) = eddy_watch_new;
static int (*const p_eddy_watch_subscribe)(eddy_watch_tx_t, eddy_watch_rx_t *) = eddy_watch_subscribe;
static int (*const p_eddy_watch_send)(eddy_watch_tx_t, void *) = eddy_watch_send;
static int (*const p_eddy_watch_get)(eddy_watch_rx_t, void **) = eddy_watch_get;
static int (*const p_eddy_watch_has_changed)(eddy_watch_rx_t) = eddy_watch_has_changed;
static int (*const p_eddy_watch_poll_changed)(eddy_watch_rx_t, eddy_cx_t *) = eddy_watch_poll_changed;
static int (*const p_eddy_watch_sender_free)(eddy_watch_tx_t) = eddy_watch_sender_free;
static int (*const p_eddy_watch_receiver_free)(eddy_watch_rx_t) = eddy_watch_receiver_free;
typedef char check_bcast_sizes[(sizeof(eddy_broadcast_tx_t) == 8 && sizeof(eddy_broadcast_rx_t) == 8 &&
                                sizeof(eddy_watch_tx_t) == 8 && sizeof(eddy_watch_rx_t) == 8) ? 1 : -1];
/* ---- end broadcast and watch ---- */
/* ---- channel and sync futures (issue 16 item 1, branch chan2-16) ---- */
static int (*const p_eddy_channel_send)(eddy_runtime_t, eddy_sender_t, void *, eddy_future_t *) = eddy_channel_send;
static int (*const p_eddy_channel_recv)(eddy_runtime_t, eddy_receiver_t, eddy_future_t *) = eddy_channel_recv;
static int (*const p_eddy_notify_wait)(eddy_runtime_t, eddy_notify_t, eddy_future_t *) = eddy_notify_wait;
static int (*const p_eddy_semaphore_acquire)(eddy_runtime_t, eddy_semaphore_t, eddy_future_t *) = eddy_semaphore_acquire;
static int (*const p_eddy_broadcast_recv)(eddy_runtime_t, eddy_broadcast_rx_t, eddy_future_t *) = eddy_broadcast_recv;
static int (*const p_eddy_watch_changed)(eddy_runtime_t, eddy_watch_rx_t, eddy_future_t *) = eddy_watch_changed;
static int (*const p_eddy_future_take_received)(eddy_future_t, void **, uint64_t *) = eddy_future_take_received;
/* ---- end channel and sync futures ---- */

static const struct {
    const char *name;
    any_fn fn;
} entries[] = {
    ENTRY(eddy_version),          ENTRY(eddy_version_string),   ENTRY(eddy_strerror),
    ENTRY(eddy_err_name),         ENTRY(eddy_config_init),      ENTRY(eddy_runtime_new),
    ENTRY(eddy_runtime_run),      ENTRY(eddy_runtime_run_until), ENTRY(eddy_block_on),
    ENTRY(eddy_runtime_free),     ENTRY(eddy_spawn),            ENTRY(eddy_task_poll_join),
    ENTRY(eddy_task_status),      ENTRY(eddy_task_abort),       ENTRY(eddy_task_free),
    ENTRY(eddy_cx_waker),         ENTRY(eddy_cx_runtime),       ENTRY(eddy_waker_wake),
    ENTRY(eddy_waker_free),       ENTRY(eddy_tcp_listen),       ENTRY(eddy_tcp_poll_accept),
    ENTRY(eddy_tcp_poll_read),    ENTRY(eddy_tcp_poll_write),   ENTRY(eddy_tcp_poll_shutdown),
    ENTRY(eddy_tcp_local_port),   ENTRY(eddy_tcp_set_nodelay),  ENTRY(eddy_tcp_close),
    ENTRY(eddy_tcp_connect),      ENTRY(eddy_sleep),            ENTRY(eddy_timeout),
    ENTRY(eddy_future_poll),      ENTRY(eddy_future_take_tcp),  ENTRY(eddy_future_take_value),
    ENTRY(eddy_future_then),      ENTRY(eddy_future_free),      ENTRY(eddy_blocking_call),
    ENTRY(eddy_spawn_blocking),   ENTRY(eddy_host_spawn),       ENTRY(eddy_host_turn),
    ENTRY(eddy_host_enter),       ENTRY(eddy_host_wake),        ENTRY(eddy_host_write),
    ENTRY(eddy_fd_watch),         ENTRY(eddy_fd_poll_ready),    ENTRY(eddy_fd_clear_ready),
    ENTRY(eddy_fd_free),          ENTRY(eddy_tcp_fd),
    /* ---- issue 14, branch pool-14 ---- */
    ENTRY(eddy_runtime_shutdown), ENTRY(eddy_runtime_metrics),  ENTRY(eddy_runtime_task_dump),
    /* ---- issue 15: UDP, addresses, options ---- */
    ENTRY(eddy_addr_parse),       ENTRY(eddy_addr_format),      ENTRY(eddy_udp_bind),
    ENTRY(eddy_udp_from_fd),      ENTRY(eddy_udp_connect),      ENTRY(eddy_udp_poll_recv_from),
    ENTRY(eddy_udp_poll_send_to), ENTRY(eddy_udp_poll_recv),    ENTRY(eddy_udp_poll_send),
    ENTRY(eddy_udp_set_option),   ENTRY(eddy_udp_get_option),   ENTRY(eddy_udp_multicast),
    ENTRY(eddy_udp_local_addr),   ENTRY(eddy_udp_peer_addr),    ENTRY(eddy_udp_fd),
    ENTRY(eddy_udp_close),
    ENTRY(eddy_tcp_listen_flags), ENTRY(eddy_tcp_listener_from_fd), ENTRY(eddy_tcp_stream_from_fd),
    ENTRY(eddy_tcp_shutdown),     ENTRY(eddy_tcp_local_addr),   ENTRY(eddy_tcp_peer_addr),
    ENTRY(eddy_tcp_set_option),   ENTRY(eddy_tcp_get_option),   ENTRY(eddy_unix_listen),
    ENTRY(eddy_unix_connect),     ENTRY(eddy_tcp_peer_cred),    ENTRY(eddy_tcp_poll_send_fd),
    ENTRY(eddy_tcp_poll_recv_fd),
    /* ---- end issue 15 ---- */
    /* ---- names (issue 15 item 1) ---- */
    ENTRY(eddy_resolve),          ENTRY(eddy_future_get_addrs), ENTRY(eddy_tcp_connect_addrs),
    ENTRY(eddy_tcp_listen_addr),
    /* ---- Unix datagram sockets (issue 15 item 3) ---- */
    ENTRY(eddy_unixdgram_bind),   ENTRY(eddy_unixdgram_connect), ENTRY(eddy_unixdgram_poll_recv_from),
    ENTRY(eddy_unixdgram_poll_send_to), ENTRY(eddy_unixdgram_poll_recv), ENTRY(eddy_unixdgram_poll_send),
    ENTRY(eddy_unixdgram_fd),     ENTRY(eddy_unixdgram_close),  ENTRY(eddy_unixdgram_from_fd),
    ENTRY(eddy_unixdgram_local_addr), ENTRY(eddy_unixdgram_peer_addr),
    /* ---- driver (io_uring) ---- */
    ENTRY(eddy_runtime_driver),
    /* ---- multi-thread runtime (issue 14) ---- */
    ENTRY(eddy_runtime_workers),  ENTRY(eddy_spawn_on),         ENTRY(eddy_runtime_worker_metrics),
    /* ---- channels (issue 16) ---- */
    ENTRY(eddy_channel_new),      ENTRY(eddy_oneshot_new),      ENTRY(eddy_channel_clone_sender),
    ENTRY(eddy_channel_try_send), ENTRY(eddy_channel_poll_send), ENTRY(eddy_channel_try_recv),
    ENTRY(eddy_channel_poll_recv), ENTRY(eddy_channel_close),   ENTRY(eddy_channel_sender_free),
    ENTRY(eddy_channel_receiver_free),
    ENTRY(eddy_semaphore_new),    ENTRY(eddy_semaphore_clone),  ENTRY(eddy_semaphore_try_acquire),
    ENTRY(eddy_semaphore_poll_acquire), ENTRY(eddy_semaphore_release), ENTRY(eddy_semaphore_close),
    ENTRY(eddy_semaphore_free),   ENTRY(eddy_notify_new),       ENTRY(eddy_notify_clone),
    ENTRY(eddy_notify_one),       ENTRY(eddy_notify_all),       ENTRY(eddy_notify_poll_wait),
    ENTRY(eddy_notify_free),      ENTRY(eddy_condition_new),    ENTRY(eddy_condition_clone),
    ENTRY(eddy_condition_poll_wait), ENTRY(eddy_condition_notify_one), ENTRY(eddy_condition_notify_all),
    ENTRY(eddy_condition_free),
    /* ---- lines and files (branch lines-15) ---- */
    ENTRY(eddy_reader_new),       ENTRY(eddy_reader_poll_line), ENTRY(eddy_reader_poll_exact),
    ENTRY(eddy_reader_free),      ENTRY(eddy_file_read),        ENTRY(eddy_file_write),
    ENTRY(eddy_file_open),        ENTRY(eddy_file_read_fd),     ENTRY(eddy_file_write_fd),
    ENTRY(eddy_future_file_data), ENTRY(eddy_future_take_fd),
    /* ---- time and combinators (issue 16, item 6) ---- */
    ENTRY(eddy_now),              ENTRY(eddy_runtime_clock_pause), ENTRY(eddy_runtime_clock_resume),
    ENTRY(eddy_runtime_clock_advance), ENTRY(eddy_sleep_until), ENTRY(eddy_interval_new),
    ENTRY(eddy_interval_poll_tick), ENTRY(eddy_interval_free),  ENTRY(eddy_join_poll),
    ENTRY(eddy_select_poll),
    /* ---- signals and child processes (issue 16, branch sigproc-16) ---- */
    ENTRY(eddy_signal_watch),     ENTRY(eddy_signal_poll),      ENTRY(eddy_signal_free),
    ENTRY(eddy_process_spawn),    ENTRY(eddy_process_pid),      ENTRY(eddy_process_take_stdio),
    ENTRY(eddy_process_poll_wait), ENTRY(eddy_process_kill),    ENTRY(eddy_process_free),
    ENTRY(eddy_process_wait),
    /* ---- broadcast and watch channels (issue 16 item 1, branch bcast-16) ---- */
    ENTRY(eddy_broadcast_new),    ENTRY(eddy_broadcast_subscribe), ENTRY(eddy_broadcast_send),
    ENTRY(eddy_broadcast_try_recv), ENTRY(eddy_broadcast_poll_recv), ENTRY(eddy_broadcast_sender_free),
    ENTRY(eddy_broadcast_receiver_free), ENTRY(eddy_watch_new),   ENTRY(eddy_watch_subscribe),
    ENTRY(eddy_watch_send),       ENTRY(eddy_watch_get),        ENTRY(eddy_watch_has_changed),
    ENTRY(eddy_watch_poll_changed), ENTRY(eddy_watch_sender_free), ENTRY(eddy_watch_receiver_free),
    /* ---- channel and sync futures (chan2-16) ---- */
    ENTRY(eddy_channel_send),     ENTRY(eddy_channel_recv),     ENTRY(eddy_notify_wait),
    ENTRY(eddy_semaphore_acquire), ENTRY(eddy_broadcast_recv),  ENTRY(eddy_watch_changed),
    ENTRY(eddy_future_take_received),
};
/* ---- signals and child processes (issue 16, branch sigproc-16) ---- */
typedef char check_stdio_modes[(EDDY_STDIO_INHERIT == 0 && EDDY_STDIO_NULL == 1 && EDDY_STDIO_PIPE == 2 &&
                                EDDY_STDIO_STDOUT == 3 && sizeof(eddy_signal_t) == 8 && sizeof(eddy_process_t) == 8) ? 1 : -1];

/* Compile-time facts of the ABI. */
typedef char check_handle_size[(sizeof(eddy_task_t) == 8 && sizeof(eddy_tcp_t) == 8 && sizeof(eddy_fd_t) == 8) ? 1 : -1];
typedef char check_fd_bits[(EDDY_FD_READABLE == 1u && EDDY_FD_WRITABLE == 2u) ? 1 : -1];
typedef char check_value_size[sizeof(eddy_value_t) == 8 ? 1 : -1];
/* issue 15 */
typedef char check_addr_size[(sizeof(eddy_addr_t) == 24 && sizeof(eddy_udp_t) == 8) ? 1 : -1];
typedef char check_host_sizes[(sizeof(eddy_host_op_t) == 40 && sizeof(eddy_host_event_t) == 16 &&
                               sizeof(eddy_host_task_t) == 8 &&
                               sizeof(eddy_host_batch_t) == 48) ? 1 : -1];
typedef char check_host_woken[(EDDY_HOST_WOKEN < -5000 && EDDY_HOST_WOKEN != EDDY_EBADPOLL) ? 1 : -1];
typedef char check_report_sizes[(sizeof(eddy_shutdown_report_t) == 48 && sizeof(eddy_runtime_metrics_t) == 104) ? 1 : -1];
typedef char check_reader_size[(sizeof(eddy_reader_t) == 8 && EDDY_FILE_APPEND == 1u) ? 1 : -1]; /* lines-15 */
/* ---- driver (io_uring) ---- */
typedef char check_driver_values[(EDDY_DRIVER_DEFAULT == 0u && EDDY_DRIVER_EPOLL == 1u && EDDY_DRIVER_IO_URING == 2u &&
                                  offsetof(eddy_config_t, driver) == 20) ? 1 : -1];
/* ---- multi-thread runtime (issue 14) ---- */
typedef char check_config_workers[(offsetof(eddy_config_t, workers) == 24 && sizeof(eddy_config_t) == 28) ? 1 : -1];
typedef char check_codes[(EDDY_READY == 0 && EDDY_PENDING == 1 && EDDY_EBADHANDLE < -5000) ? 1 : -1];

int main(void)
{
    size_t n = sizeof entries / sizeof entries[0];
    for (size_t i = 0; i < n; i++) {
        if (entries[i].fn == 0) {
            printf("missing: %s\n", entries[i].name);
            return 1;
        }
    }
    if (eddy_version() != EDDY_VERSION_HEX) {
        printf("eddy_version() = 0x%x, header says 0x%x\n", eddy_version(), (unsigned)EDDY_VERSION_HEX);
        return 1;
    }
    printf("header check: %u functions resolved, libeddy %s\n", (unsigned)n, eddy_version_string());
    return 0;
}
