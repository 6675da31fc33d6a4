/* Virtual sockets of the rules (api_vsock.c): the fd rules forget one. */
#ifndef SFEMU_API_VSOCK_H
#define SFEMU_API_VSOCK_H

/* fd was closed or replaced: it is no virtual socket any more. */
void sfemu_vsock_forget(int fd);

#endif
