// The signed-in seller, shared by the views ({user} from /api/me or sign-in; null when out).
export const session = { user: null };
