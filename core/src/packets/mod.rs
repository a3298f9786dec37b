//! Captured packets, a shared layer under the capabilities that read captures (packet capture
//! merges and summarises them, flows builds flow records from them):
//!
//! - [`reader`]: a streaming reader of classic libpcap (µs/ns, both byte orders) and pcapng
//!   (sections, interfaces, time resolutions);
//! - [`decode`]: a shallow decoder of the link, IP and transport headers.

pub mod decode;
pub mod reader;
