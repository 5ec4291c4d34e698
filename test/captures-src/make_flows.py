# Writes many_flows.pcap: 250 synthetic UDP/TCP flows (1-4 packets each), input for softflowd -r.
import struct
out=open('many_flows.pcap','wb')
out.write(struct.pack('<IHHiIII',0xa1b2c3d4,2,4,0,0,65535,1))
def csum(b):
    s=sum(struct.unpack('!%dH'%(len(b)//2),b)); s=(s>>16)+(s&0xffff); s+=s>>16; return (~s)&0xffff
t=1700000000.0
for i in range(250):
    src=bytes([10,1,(i>>8)&255,i&255]); dst=bytes([10,2,0,1+(i%50)])
    proto=17 if i%3 else 6
    for k in range(1+i%4):
        t+=0.01
        if proto==17:
            payload=b'x'*(20+i%100)
            l4=struct.pack('!HHHH',10000+i,53,8+len(payload),0)+payload
        else:
            l4=struct.pack('!HHIIBBHHH',20000+i,80,k,0,0x50,0x18 if k else 0x02,1024,0,0)+b'y'*(i%60)
        ip=struct.pack('!BBHHHBBH4s4s',0x45,0,20+len(l4),i&0xffff,0,64,proto,0,src,dst)
        ip=ip[:10]+struct.pack('!H',csum(ip))+ip[12:]
        frame=b'\x02'*6+b'\x04'*6+b'\x08\x00'+ip+l4
        sec=int(t); us=int(round((t-sec)*1e6))
        out.write(struct.pack('<IIII',sec,us,len(frame),len(frame))+frame)
out.close()
