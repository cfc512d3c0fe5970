// Unit specs exercise failures on purpose; Nest's logger would print each one. Assertions read the
// activity log and the thrown errors instead.
import { Logger } from '@nestjs/common';

Logger.overrideLogger(false);
