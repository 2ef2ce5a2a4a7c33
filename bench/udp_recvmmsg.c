/* udp_recvmmsg.c — receive-side cost per 64-byte datagram on loopback: recvfrom (batch 1)
 * vs recvmmsg (batch 8, 32), 200 datagrams queued per round, 2 M datagrams. Issue 15's
 * measurement for batching (docs/NETWORKING.md, "Measured"). cc -O2 udp_recvmmsg.c && ./a.out 8 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
int main(int argc,char**argv){
  int batch = atoi(argv[1]); int total = 2000000; int q = 200;
  int rx = socket(AF_INET, SOCK_DGRAM|SOCK_NONBLOCK, 0), tx = socket(AF_INET, SOCK_DGRAM, 0);
  int big = 8<<20; setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  struct sockaddr_in a = {.sin_family=AF_INET, .sin_addr.s_addr=htonl(INADDR_LOOPBACK)}; socklen_t l=sizeof a;
  bind(rx,(void*)&a,sizeof a); getsockname(rx,(void*)&a,&l);
  char buf[64][64]; struct mmsghdr m[64]; struct iovec iov[64]; struct sockaddr_in from[64];
  for(int i=0;i<64;i++){iov[i].iov_base=buf[i];iov[i].iov_len=64;memset(&m[i],0,sizeof m[i]);m[i].msg_hdr.msg_iov=&iov[i];m[i].msg_hdr.msg_iovlen=1;m[i].msg_hdr.msg_name=&from[i];m[i].msg_hdr.msg_namelen=sizeof from[i];}
  double recvt=0; long got=0, calls=0;
  for(int done=0; done<total; done+=q){
    for(int i=0;i<q;i++) sendto(tx,"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",64,0,(void*)&a,sizeof a);
    double t0=now();
    for(;;){
      if(batch==1){ struct sockaddr_in f; socklen_t fl=sizeof f; ssize_t n=recvfrom(rx,buf[0],64,MSG_TRUNC,(void*)&f,&fl); calls++; if(n<0)break; got++; }
      else { for(int i=0;i<batch;i++) m[i].msg_hdr.msg_namelen=sizeof from[i]; int n=recvmmsg(rx,m,batch,0,NULL); calls++; if(n<=0)break; got+=n; }
    }
    recvt+=now()-t0;
  }
  printf("batch %d: %ld datagrams, %ld calls, %.0f ns/datagram receive side\n", batch, got, calls, recvt/got*1e9);
}
