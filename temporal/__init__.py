"""What every process that talks to Temporal shares: the client and its one data converter
(`client`), the payload codec (`codec`), and the replayer for recorded histories (`replay`)."""
