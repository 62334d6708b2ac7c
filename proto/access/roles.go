package access

// declaredRoles are the roles that may call each method at all; the
// handler then checks the caller's scope (own län, own organisation, own
// person). The interceptor chain checks this before it validates the
// request, so a caller who may not call a method gets 403, never a 400 that
// reveals the method's rules. Methods not listed are open to every
// signed-in role (and the public ones to anyone).
var declaredRoles = map[string][]string{
	// Activity registry.
	"/tia.activity.v1.ActivityService/CheckCertificate":        {mv, seeker},
	"/tia.activity.v1.ActivityService/CreateActivity":          {organiser, fbr},
	"/tia.activity.v1.ActivityService/UpdateActivity":          {organiser, fbr},
	"/tia.activity.v1.ActivityService/CreateAgreement":         {lst},
	"/tia.activity.v1.ActivityService/EndAgreement":            {lst},
	"/tia.activity.v1.ActivityService/GetAgreement":            {lst, organiser, mv, fbr},
	"/tia.activity.v1.ActivityService/ListAgreements":          {lst, organiser, mv, fbr},
	"/tia.activity.v1.ActivityService/CreateCertificate":       {organiser},
	"/tia.activity.v1.ActivityService/RenewCertificate":        {organiser},
	"/tia.activity.v1.ActivityService/StartParticipation":      {organiser},
	"/tia.activity.v1.ActivityService/EndParticipation":        {organiser},
	"/tia.activity.v1.ActivityService/GetCertificate":          {organiser, mv, seeker},
	"/tia.activity.v1.ActivityService/ListCertificates":        {organiser, mv, seeker},
	"/tia.activity.v1.ActivityService/CreateOrganiser":         {organiser, fbr, lst},
	"/tia.activity.v1.ActivityService/UpdateOrganiser":         {organiser, fbr, lst},
	"/tia.activity.v1.ActivityService/GetFolkbildningReport":   {lst, mv, fbr},
	"/tia.activity.v1.ActivityService/UpdateReportSchedule":    {lst, fbr},
	"/tia.activity.v1.ActivityService/SearchAuditEntries":      {mv, seeker},
	"/tia.activity.v1.ActivityService/VerifyAuditTrail":        {mv},
	"/tia.statistics.v1.StatisticsService/ImportSnapshot":      {mv},
	"/tia.statistics.v1.StatisticsService/CreatePlannedChange": {mv},
	"/tia.statistics.v1.StatisticsService/DeletePlannedChange": {mv},
	// Travel compensation.
	"/tia.travel.v1.TravelService/CreateRoute":                {mv},
	"/tia.travel.v1.TravelService/RevokeRoute":                {mv},
	"/tia.travel.v1.TravelService/CreateConsultation":         {mv},
	"/tia.travel.v1.TravelService/DecideConsultation":         {mv},
	"/tia.travel.v1.TravelService/CreateConsultationResponse": {lst, organiser},
	"/tia.travel.v1.TravelService/CreateClaim":                {seeker, mv},
	"/tia.travel.v1.TravelService/GetClaim":                   {mv, seeker, lst},
	"/tia.travel.v1.TravelService/ListClaims":                 {mv, seeker, lst},
	"/tia.travel.v1.TravelService/ApproveClaim":               {mv},
	"/tia.travel.v1.TravelService/RejectClaim":                {mv},
	"/tia.travel.v1.TravelService/CreatePaymentRun":           {mv},
	"/tia.travel.v1.TravelService/GetPaymentRun":              {mv},
	"/tia.travel.v1.TravelService/ListPaymentRuns":            {mv},
	"/tia.travel.v1.TravelService/GetPaymentFile":             {mv},
	"/tia.travel.v1.TravelService/DownloadPaymentFile":        {mv},
	"/tia.travel.v1.TravelService/SearchAuditEntries":         {mv, seeker},
	"/tia.travel.v1.TravelService/VerifyAuditTrail":           {mv},
	// Notification.
	"/tia.notification.v1.NotificationService/CreateContact":      {lst, mv, fbr, organiser},
	"/tia.notification.v1.NotificationService/CreateForumMember":  {lst},
	"/tia.notification.v1.NotificationService/DeleteForumMember":  {lst},
	"/tia.notification.v1.NotificationService/CreateMeeting":      {lst},
	"/tia.notification.v1.NotificationService/UpdateMeeting":      {lst},
	"/tia.notification.v1.NotificationService/RecordFeedback":     {lst},
	"/tia.notification.v1.NotificationService/SearchAuditEntries": {mv, seeker},
	"/tia.notification.v1.NotificationService/VerifyAuditTrail":   {mv},
}

const (
	mv        = "migrationsverket"
	lst       = "lansstyrelse"
	fbr       = "folkbildningsradet"
	organiser = "organiser"
	seeker    = "asylum_seeker"
)

func init() {
	for m, r := range declaredRoles {
		if _, ok := roles[m]; !ok {
			roles[m] = r
		}
	}
}
