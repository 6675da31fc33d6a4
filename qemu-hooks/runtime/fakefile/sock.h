/*
 * Managed fake sockets: a guest fd connected to a fake unix socket becomes
 * one end of a real socketpair; a pump thread of this process serves the
 * other end with the fakeconfig's handlers (write with ctx.reply, read
 * asked after connect and after each message, close), so every socket
 * call, poll/select/epoll readiness and SIGIO work natively in the kernel.
 * The socket is served by the process that connected (a forked child's
 * copy talks to its parent's pump; docs/fakefile.md).
 */
#ifndef SFEMU_FAKE_SOCK_H
#define SFEMU_FAKE_SOCK_H

/* Make fd (an AF_UNIX socket of the guest) a fake socket served for path.
 * 0 or -errno (fd is unchanged on error). */
int sfemu_sock_serve(int fd, const char *path);

/* The guest closes fd (a fake socket it connected): a datagram socket is
 * closed at once (the kernel tells no datagram peer of a close); stream
 * and seqpacket sockets end when the last copy closes. */
void sfemu_sock_guest_close(int fd);

#endif
