const msg: string = "hi";
consol.log(msg.lenght);
