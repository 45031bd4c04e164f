import { start } from "./view";
start("thread");
