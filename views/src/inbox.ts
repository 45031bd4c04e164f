import { start } from "./view";
start("inbox");
